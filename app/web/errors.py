"""The HTML side's one place for error status codes: full error pages, or a message fragment
retargeted into the page's message area when htmx asked for a piece of a page."""
import logging

from flask import Flask, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.api import problems
from app.core import errors as E
from app.web.htmx import is_fragment_request, render, retarget

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Sign in first", 403: "Not allowed",
          404: "Not found", 405: "Not allowed here", 409: "Conflict",
          413: "Too large", 422: "Check the form", 423: "Busy", 429: "Slow down",
          500: "Something went wrong"}
STATUS_OF = ((E.Invalid, 422), (E.Unauthenticated, 401), (E.Forbidden, 403),
             (E.NotFound, 404), (E.VersionMismatch, 409), (E.Conflict, 409), (E.Locked, 423))


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_page(status: int, message: str):
    template = "errors/page.html"
    response = render(template, "errors/_message.html", status=status, status_code=status,
                      title=TITLES.get(status, "Error"), message=message)
    if is_fragment_request():
        retarget(response, "#messages")
    return response


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
        return error_page(400, "The form expired or did not come from this site; reload the "
                               "page and try again.")

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        if _is_api():
            return problems.integrity_error(error)
        return error_page(409, "That was changed by someone else meanwhile; reload and retry.")

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        if _is_api():
            return problems.database_busy(error)
        if problems.is_lock_timeout(error):
            return error_page(423, "The data is busy right now; try again in a moment.")
        return unexpected(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _is_api():
            return problems.http_error(error)
        return error_page(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if _is_api():
            return problems.unexpected(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500, "Something went wrong on our side. Try again in a moment.")
