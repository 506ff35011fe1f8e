"""The HTML side's one place for error status codes: full error pages, or a message fragment
retargeted into the page's message area when htmx asked for a piece of a page; and the way to
the sign-in page for a request that needs a session it does not have."""
import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from app.api import problems
from app.core import errors as E
from app.db.errors import RETRY_AFTER_SECONDS, failure_kind, reason, release_session
from app.web.forms import SignInForm
from app.web.htmx import (
    is_fragment_request,
    is_htmx_request,
    page_url,
    redirect_page,
    render,
    retarget,
)
from app.web.kiosk import SESSION_KEY as KIOSK_SESSION

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Sign in first", 403: "Not allowed",
          404: "Not found", 405: "Not allowed here", 409: "Conflict",
          413: "Too large", 422: "Check the form", 423: "Busy", 429: "Slow down",
          500: "Something went wrong", 503: "Try again in a moment"}
STATUS_OF = ((E.Invalid, 422), (E.Unauthenticated, 401), (E.Forbidden, 403),
             (E.NotFound, 404), (E.VersionMismatch, 409), (E.Conflict, 409), (E.Locked, 423))
SESSION_ENDED = "Your session ended. Sign in again to go on where you were."


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _on_kiosk_screen() -> bool:
    """A wall screen or ready board, not a person: it has no dashboard to go back to."""
    return request.blueprint in ("kiosk", "board") and not current_user.is_authenticated


def error_page(status: int, message: str):
    template = "errors/kiosk.html" if _on_kiosk_screen() else "errors/page.html"
    response = render(template, "errors/_message.html", status=status, status_code=status,
                      title=TITLES.get(status, "Error"), message=message)
    if is_fragment_request():
        retarget(response, "#messages")
    return response


def sign_in_first(message: str | None = None):
    """The answer to a request that needs a signed-in session and has none (never signed in,
    signed out in another tab, cookies cleared, expired): the whole browser goes to the sign-in
    page, which leads back to the page the person was on. An htmx request gets HX-Redirect, so
    the sign-in page replaces the page rather than being swapped into a piece of it."""
    page = page_url()
    sign_in_url = url_for("auth.sign_in")
    if page and urlsplit(page).path == sign_in_url:
        # The sign-in form itself expired: the same form again, with the same `next`.
        target, message = page, message or "The form had expired; please sign in again."
    else:
        target = url_for("auth.sign_in", next=page) if page else sign_in_url
    if message is None:
        # A page was open (its poll, a button) or a form was posted: it was a session once.
        message = SESSION_ENDED if is_htmx_request() or request.method == "POST" else \
            "Sign in to see this page."
    flash(message, "info")
    return redirect_page(target)


def _session_ended() -> bool:
    """A post that carries a token from one of our pages, from a browser no longer signed in
    (nor a kiosk screen): the token failed because the session it was paired with is gone
    (signed out in another tab, cookies cleared, expired). A post with no token at all did not
    come from a page of ours."""
    config = current_app.config
    sent = request.form.get(config["WTF_CSRF_FIELD_NAME"]) or any(
        request.headers.get(header) for header in config["WTF_CSRF_HEADERS"])
    return bool(sent) and not current_user.is_authenticated and KIOSK_SESSION not in session


def register(app: Flask) -> None:
    @app.errorhandler(E.DomainError)
    def domain_error(error: E.DomainError):
        status = next((code for cls, code in STATUS_OF if isinstance(error, cls)), 500)
        message = error.message
        if isinstance(error, E.Invalid):
            message = "; ".join(e.message for e in error.errors) or message
        return error_page(status, message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if _is_api():
            return error
        if _session_ended():
            return sign_in_first()
        return error_page(400, "The form expired or did not come from this site; reload the "
                               "page and try again.")

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        if _is_api():
            return problems.integrity_error(error)
        return error_page(409, "That was changed by someone else meanwhile; reload and retry.")

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if _is_api():
            return problems.database_error(error)
        kind = failure_kind(error)
        release_session()
        if kind == "locked":
            return error_page(423, "The data is busy right now; try again in a moment.")
        if kind == "unavailable":
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        reason(error))
            response = error_page(503, "The database did not answer in time; nothing was "
                                       "changed. Try again in a moment.")
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return unexpected(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _is_api():
            return problems.http_error(error)
        if error.code == 429 and request.endpoint == "auth.sign_in":
            # Too many attempts: the form stays, with the wait, for the next try.
            return render("auth/sign_in.html", status=429, form=SignInForm(),
                          error=error.description)
        return error_page(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if _is_api():
            return problems.unexpected(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500, "Something went wrong on our side. Try again in a moment.")
