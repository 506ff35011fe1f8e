"""Structured request logs: one JSON line per request, carrying the request id.

The id is the one problem+json answers carry as `traceId` and every answer as X-Request-Id, so
a user quoting a traceId leads straight to the request's log line and to any error logged while
it ran. python-json-logger formats the records; gunicorn.conf.py hands gunicorn's own loggers
the same formatter.
"""
import logging
import re
import secrets
import time

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

# What a proxy or a caller may hand us as the request id: short, and safe to log.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

request_log = logging.getLogger("app.requests")

JSON_FIELDS = ["asctime", "levelname", "name", "message"]
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


def new_request_id() -> str:
    """This request's id: the one already assigned, a well-formed X-Request-Id from the proxy or
    caller (so their logs and ours correlate), or a fresh random one."""
    if has_request_context():
        if g.get("request_id"):
            return g.request_id
        given = request.headers.get("X-Request-Id", "")
        if _GIVEN_ID.fullmatch(given):
            return given
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Stamp every record logged while a request runs with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "requestId"):
            record.requestId = g.get("request_id") if has_request_context() else None
        return True


def json_formatter() -> JsonFormatter:
    # The fields as a %-style format: the spelling every supported python-json-logger reads
    # (a list of names needs 3.2 or later).
    return JsonFormatter(" ".join(f"%({name})s" for name in JSON_FIELDS), rename_fields=RENAMED)


# The same set-up as a logging.config dictionary, for gunicorn's `logconfig_dict`.
LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": RequestIdFilter}},
    "formatters": {"json": {"()": json_formatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "filters": ["request_id"], "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # Our request log replaces gunicorn's access log: it knows the request id.
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}


def _json_configured(logger: logging.Logger) -> bool:
    return any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr when LOG_FORMAT is json, unless the server configured them first."""
    request_log.setLevel(app.config["LOG_LEVEL"])
    root = logging.getLogger()
    if app.config["LOG_FORMAT"] != "json" or _json_configured(root):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def register_request_logs(app: Flask) -> None:
    configure_logging(app)
    # Registered before every other before_request function, so even a request refused by one
    # of them (too large, rate limited) has an id and a duration.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_log)


def _start():
    g.pop("request_id", None)  # a test client may run several requests in one app context
    g.request_id = new_request_id()
    g.request_started = time.perf_counter()


def _log(response):
    """Write the request's line, and give the answer its X-Request-Id. Registered first, so it
    runs after every other after-request hook and sees the answer as it leaves."""
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-Id"] = request_id
    if not request_log.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    # The API's bearer user, or the dashboard's signed-in one if it was loaded.
    user = g.get("user") or g.get("_login_user")
    environ = request.environ
    # The path without its query string: kiosk links carry their secret there.
    path = request.path
    request_log.info(
        "%s %s %s", request.method, path, response.status_code,
        extra={
            "event": "request", "method": request.method, "path": path,
            "status": response.status_code,
            "durationMs": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "requestId": request_id, "remoteAddr": environ.get("REMOTE_ADDR"),
            "userAgent": environ.get("HTTP_USER_AGENT") or None,
            "user": getattr(user, "user_name", None),
            "bytes": response.calculate_content_length(),
        })
    return response
