"""Security headers, HTTPS, proxies, request size and NUL refusal: what every request meets.

The Content-Security-Policy allows scripts and styles from this site's own files only (no
`unsafe-inline`, no `unsafe-eval`): the templates carry no inline script, no <style> and no
style="" attribute, htmx is configured without eval and without its injected indicator styles,
and the small amount of JavaScript lives in static/js/.

The headers are the same on every answer, so they are written out once at start and added as
one list; a per-request policy builder (Flask-Talisman, used before) cost about 70 µs a request,
a tenth of an API page. A request counts as HTTPS when its scheme is https: it came over TLS,
or PROXY_FIX_HOPS is set and the trusted proxy said so in X-Forwarded-Proto (ProxyFix puts it in
the scheme). Without PROXY_FIX_HOPS no X-Forwarded-* header counts, since any client can send
one. HSTS goes on HTTPS answers only, and with HTTPS on, a plain-HTTP request is redirected (302)
unless its view allows plain HTTP.

Every HTML answer is `Cache-Control: no-store` (it shows a person's orders and carries a CSRF
token, and must not be kept by a shared computer's browser after sign-out), except the pages
answered with an ETag for conditional GETs, which app.http.etags marks `private, no-cache`.
"""
from flask import Flask, current_app, redirect, request
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
    "serial": "()", "browsing-topics": "()",
}
HSTS_MAX_AGE = 365 * 24 * 3600
HSTS = ("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
# What every answer carries.
SECURITY_HEADERS = [
    ("Permissions-Policy", ", ".join(f"{k}={v}" for k, v in PERMISSIONS_POLICY.items())),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in CONTENT_SECURITY_POLICY.items())),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
]


def register_security(app: Flask) -> None:
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Behind `hops` proxies: the client's address (rate limits, logs) and scheme (Secure
        # cookies, HSTS, redirects) come from their X-Forwarded-* headers, and only theirs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    # Cookie flags are plain configuration (app.config), set in load_config.
    if app.config["HTTPS"]:
        app.before_request(redirect_plain_http)
    app.before_request(refuse_oversized_body)
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    app.after_request(keep_pages_out_of_caches)


def is_https(environ) -> bool:
    """Whether a request came over HTTPS: over TLS, or through a trusted proxy that says so
    (ProxyFix, with PROXY_FIX_HOPS set, has then made the scheme https)."""
    return environ.get("wsgi.url_scheme") == "https"


def allow_plain_http(view):
    """Exempt a view from the HTTPS redirect (a load balancer's health probe speaks HTTP)."""
    view.plain_http_allowed = True
    return view


def redirect_plain_http():
    if current_app.debug or is_https(request.environ):
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "plain_http_allowed", False):
        return None
    if request.url.startswith("http://"):
        return redirect(request.url.replace("http://", "https://", 1), code=302)
    return None


def add_security_headers(response):
    response.headers.extend(SECURITY_HEADERS)
    if is_https(request.environ):
        response.headers.add(*HSTS)
    return response


def keep_pages_out_of_caches(response):
    if (response.mimetype == "text/html" and "ETag" not in response.headers
            and request.endpoint != "static"):
        response.headers["Cache-Control"] = "no-store"
    return response


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
