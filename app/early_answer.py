"""A JSON answer given before Flask (app.api.kept_lists, app.api.early_tickets): with the headers
Flask's answer carries (security headers, HSTS over HTTPS, Vary, X-Request-Id) and the request
log line Flask's would leave."""
import logging

from app.logs import early_request_id, log_early_answer, request_log
from app.security import HSTS, SECURITY_HEADERS, is_https


def answer_json(poll, environ, start_response, body: bytes, *, started: float, user_name: str,
                method: str = "GET", headers: tuple = ()):
    """Start the 200 answer with `body` and the extra `headers`; returns the WSGI iterable.
    `poll` is the kiosk poll in front of the app (it starts the dispatch sender, as Flask's
    first request would)."""
    request_id = early_request_id(environ)
    all_headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   *headers, *SECURITY_HEADERS, ("X-Request-Id", request_id),
                   ("Vary", "Cookie")]
    if is_https(environ):
        all_headers.append(HSTS)
    start_response("200 OK", all_headers)
    poll.ensure_sender()
    if request_log.isEnabledFor(logging.INFO) and request_log.hasHandlers():
        log_early_answer(environ, started, request_id, 200, user=user_name, size=len(body),
                         method=method)
    return [body]
