"""RFC 7807 problem responses: the one place the API chooses status codes for errors."""
import logging

from flask import g, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from app.api import bp
from app.core import errors as E
from app.db.errors import RETRY_AFTER_SECONDS, failure_kind, reason, release_session
from app.http.idempotency import KeyReused

log = logging.getLogger(__name__)

ERROR_CODES = {400: 3, 401: 1, 403: 2, 409: 3, 423: 5}


def problem(status: int, title: str, detail: str = "", *, error_code: int | None = None,
            errors=None, **extra):
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
        "traceId": g.get("request_id"),
    }
    code = error_code if error_code is not None else ERROR_CODES.get(status)
    if code is not None:
        body["errorCode"] = code
    if errors is not None:
        body["errors"] = [{"memberName": e.member_name, "message": e.message, "code": e.code}
                          for e in errors]
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(E.DomainError)
def domain_error(error: E.DomainError):
    if isinstance(error, E.Invalid):
        return problem(400, "Validation failed", error.message, errors=error.errors)
    if isinstance(error, E.Unauthenticated):
        return problem(401, "Unauthenticated", error.message or "Sign in first.")
    if isinstance(error, E.Forbidden):
        return problem(403, "Unauthorized", error.message)
    if isinstance(error, E.NotFound):
        return problem(404, "Not found", error.message)
    if isinstance(error, E.VersionMismatch):
        return problem(409, "Resource version mismatch", error.message, error_code=6,
                       currentVersion=error.current_version,
                       errors=[E.FieldError("_v", error.message, "versionMismatch")])
    if isinstance(error, E.Conflict):
        return problem(409, "Conflict", error.message, errors=error.errors)
    if isinstance(error, KeyReused):
        return problem(422, "Idempotency key reused", error.message, error_code=3,
                       errors=error.errors)
    if isinstance(error, E.Locked):
        return problem(423, "Resource locked", error.message or "Busy; retry shortly.")
    return problem(500, "Internal server error")


# Errors raised inside API views meet these handlers; routing errors (an unknown /api path,
# a wrong method) reach the app-wide handlers of app.web.errors, which hand /api paths here.

@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    response = problem(error.code or 500, error.name, error.description or error.name)
    # Keep what the error says beyond its body, such as the Allow header of a 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(IntegrityError)
def integrity_error(error: IntegrityError):
    # Two writers racing to create the same unique name: the loser's insert fails here.
    log.warning("integrity error on %s %s: %s", request.method, request.path, error.orig)
    return problem(409, "Conflict", "The change conflicts with data saved meanwhile; "
                                    "reload and try again.")


@bp.errorhandler(DBAPIError)
def database_error(error: DBAPIError):
    kind = failure_kind(error)
    release_session()
    if kind == "locked":
        log.warning("lock timeout on %s %s: %s", request.method, request.path, reason(error))
        return problem(423, "Resource locked", "The resource is busy; retry shortly.")
    if kind == "unavailable":
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    reason(error))
        response = problem(503, "Service unavailable",
                           "The database did not answer in time; nothing was changed. "
                           "Retry shortly.", error_code=5)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return unexpected(error)


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    # Logged with its traceback here; the client gets only the trace id to quote.
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal server error",
                   "Something went wrong on our side; quote the traceId when reporting it.")
