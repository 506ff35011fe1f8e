"""The only module that reads HX-* headers: page or fragment, Vary, redirects, retargeting."""
from flask import make_response, render_template, request
from flask import redirect as flask_redirect


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
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Location"] = url
        return response
    return flask_redirect(url, code=303)


def retarget(response, selector: str, swap: str = "innerHTML"):
    """Send an htmx answer somewhere other than the element that asked (error messages)."""
    if request.headers.get("HX-Request") == "true":
        response.headers["HX-Retarget"] = selector
        response.headers["HX-Reswap"] = swap
    return response


def push_url(response, url: str):
    """Put `url` in the browser's address bar and history for an htmx answer."""
    if is_fragment_request():
        response.headers["HX-Push-Url"] = url
    return response
