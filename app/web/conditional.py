"""Conditional GETs of dashboard pages (app.http.etags), with what every signed-in page shows
besides its own content.

A page shows the signed-in user's name and rights, and its times in their time zone (their
version moves with each, and with any setting of theirs; the zone is named too, as the site's
zone, SITE_TIMEZONE, may change without any user's version moving), is a whole page or an htmx
fragment, and carries a CSRF token. A 304 keeps the token the browser already
has, so the tag changes every half of the token's lifetime: a cached page's forms always post a
token with at least half its life left. A page drawn with a message waiting to be shown
(flash) is never answered 304: the message would be lost.
"""
import time

from flask import current_app, request, session
from flask_login import current_user

from app.http.etags import etag_of, not_modified, tagged
from app.web.htmx import is_fragment_request
from app.web.times import viewer_zone_name

VARY = ("Cookie", "HX-Request")


def page_etag(*parts) -> str | None:
    """The ETag of the page the signed-in user asked for, given what decides its content;
    None when the page must be drawn afresh."""
    if session.get("_flashes"):
        return None
    lifetime = current_app.config.get("WTF_CSRF_TIME_LIMIT") or 3600
    return etag_of("page", parts, current_user.id, current_user.version, viewer_zone_name(),
                   request.full_path, is_fragment_request(),
                   int(time.time() // (lifetime / 2)))


def unchanged_page(etag: str | None):
    """The 304 answer when the browser holds this page as it is, else None."""
    return not_modified(etag, vary=VARY) if etag is not None else None


def tagged_page(response, etag: str | None):
    if etag is None or response.status_code != 200:
        return response
    return tagged(response, etag, vary=VARY)
