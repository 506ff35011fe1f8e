"""The only module that reads HX-* headers: page or fragment, Vary, redirects, retargeting."""
from urllib.parse import urlsplit, urlunsplit

from flask import make_response, render_template, request
from flask import redirect as flask_redirect


def is_htmx_request() -> bool:
    """Any request htmx sent: a fragment, a form it posted, a poll."""
    return request.headers.get("HX-Request") == "true"


def is_fragment_request() -> bool:
    """An htmx request for a piece of a page (not a boosted navigation or history restore)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """The full page, or only `fragment` when htmx asks for it; both from one context."""
    template = fragment if fragment and is_fragment_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect(url: str):
    """A redirect htmx follows as a navigation (a plain 302 would be swapped into the target)."""
    if is_htmx_request():
        response = make_response("", 204)
        response.headers["HX-Location"] = url
        return response
    return flask_redirect(url, code=303)


def retarget(response, selector: str, swap: str = "innerHTML"):
    """Send an htmx answer somewhere other than the element that asked (error messages)."""
    if is_htmx_request():
        response.headers["HX-Retarget"] = selector
        response.headers["HX-Reswap"] = swap
    return response


def push_url(response, url: str):
    """Put `url` in the browser's address bar and history for an htmx answer."""
    if is_fragment_request():
        response.headers["HX-Push-Url"] = url
    return response


def redirect_page(url: str, *, status: int = 401):
    """Send the whole browser to `url`, leaving the page it shows (the sign-in page after a
    session ended). Under htmx an HX-Redirect: htmx loads `url` as a new page, where a plain
    redirect would be followed by the request and its page swapped into this one. `status`
    is that answer's: htmx reads the header whatever it is."""
    if is_htmx_request():
        response = make_response("", status)
        response.headers["HX-Redirect"] = url
        response.vary.add("HX-Request")
        return response
    return flask_redirect(url)


def page_url() -> str | None:
    """The path and query of the page the person is on, of this site only: the page that sent
    an htmx request (HX-Current-URL), else the page a form was posted from (Referer), else the
    page asked for. None when it is not known (a post from nowhere, or another site)."""
    if is_htmx_request():
        return _local(request.headers.get("HX-Current-URL"))
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    return _local(request.referrer)


def _local(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))
