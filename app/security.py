"""Security headers, cookie flags, proxies, request size and NUL refusal: what every request meets.

Flask-Talisman writes the headers. The Content-Security-Policy allows scripts and styles from
this site's own files only (no `unsafe-inline`, no `unsafe-eval`): the templates carry no inline
script, no <style> and no style="" attribute, htmx is configured without eval and without its
injected indicator styles, and the small amount of JavaScript lives in static/js/.
"""
from flask import Flask, request
from flask_talisman import Talisman
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Nothing here needs a camera, a microphone or a location. Kiosks play a beep (WebAudio), so
# autoplay and fullscreen stay allowed for this site.
PERMISSIONS_POLICY = {
    "camera": "()", "microphone": "()", "geolocation": "()", "payment": "()", "usb": "()",
    "serial": "()", "bluetooth": "()", "browsing-topics": "()",
}
HSTS_MAX_AGE = 365 * 24 * 3600


def register_security(app: Flask) -> None:
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Behind `hops` proxies: the client's address (rate limits, logs) and scheme (Secure
        # cookies, HSTS, redirects) come from their X-Forwarded-* headers, and only theirs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    # One Talisman per app: it keeps its options on itself, and tests build apps with
    # different settings side by side.
    app.extensions["talisman"] = Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        feature_policy="",  # superseded by Permissions-Policy
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # HSTS only on answers that went out over HTTPS; Talisman checks per request.
        strict_transport_security=True,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=False,
        force_https=app.config["HTTPS"],
        # Cookie flags are plain configuration (app.config), set in load_config.
        session_cookie_secure=False,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
    app.before_request(refuse_oversized_body)
    app.before_request(refuse_nul_characters)


def allow_plain_http(view):
    """Exempt a view from the HTTPS redirect (a load balancer's health probe speaks HTTP)."""
    view.talisman_view_options = {"force_https": False}
    return view


def refuse_oversized_body():
    """413 before anything runs when the declared body is larger than MAX_CONTENT_LENGTH.

    Werkzeug refuses such a body only when a view reads it; a route that reads no body would
    otherwise accept it. A body without Content-Length is cut off at the limit while read.
    """
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"The request body is larger than {limit} bytes.")


FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul_characters():
    """No path or form field may hold a NUL character (%00).

    PostgreSQL cannot store or compare NUL in text, so such a value would fail deep in a query
    as a server error; SQLite would quietly cut the text at it. A path with one names nothing
    (404); a form field with one is malformed (400). Query arguments are checked by the NData
    parser, which names the member, and JSON bodies by app.api.bodies.
    """
    if "\x00" in request.path:
        raise NotFound()
    if request.mimetype in FORMS and any("\x00" in value for values in request.form.listvalues()
                                         for value in values):
        raise BadRequest("A form field holds a NUL character.")
