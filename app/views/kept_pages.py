"""The dashboard's order list asked again with nothing changed, answered before Flask.

An open dashboard asks `GET /orders?...&stamp=N` every two seconds, and people reload the list
all day. Through Flask each of these costs the session, Flask-Login's user, the stamps and, for
the page itself, the page's keys, the counts and whatever rows changed (app.views.list_rows):
a few milliseconds, ten times a hello-world's. Between two changes of any order the page is the
same text for the same person, except for one thing: the CSRF token, signed afresh for every
page.

So this front keeps what Flask answered, and answers it again itself:

- **What is kept.** The view marks an answer it is willing to have kept (`offer`): its key, the
  signed-in user and the session's CSRF secret. The front keeps the answer's status, headers and
  body, cut at the CSRF token, if Flask set no cookie while answering: no flashed message was
  shown, nothing in the session changed, no remember cookie was set or cleared. The key is the
  query string, the htmx headers that pick page or fragment, the scheme, the user (id, name,
  rights), the change counter and the stations' stamp (app.api.list_cache explains why the two
  stamps make a kept answer exact), and the path the app is mounted at.
- **Who it is answered to.** Only to the same request again: the same Cookie header, the same
  User-Agent and client address (Flask-Login's session protection reads those), which Flask
  itself accepted as that user without changing the session, and only until that cookie would
  expire. So Flask-Login's rules are never redone here: they were applied by Flask to exactly
  these bytes, and the rest of its decision is in the database, read on every request by one
  statement: the user still there and active, their name and rights, and both stamps.
- **What is answered.** The kept status, headers and body with a new CSRF token signed as
  Flask-WTF signs it, a new X-Request-Id, and the request's log line.

Anything else goes to Flask untouched: another method or path, a body, host matching, the
redirect to HTTPS, a session not seen before or expired, a user not active, an answer not kept
under this key, a database error.
"""
import logging
import threading
import time

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import bindparam, select
from werkzeug.http import parse_cookie

from app.api.list_cache import ListCache
from app.early_statement import EarlyStatement
from app.extensions import process_cache
from app.kiosk_poll import signed_session
from app.logs import early_request_id, log_early_answer, request_log
from app.models import User
from app.security import is_https
from app.services.orders import stamp_columns

PATH = "/orders"
MARK = "orders_hub.kept_page"  # where the view leaves its offer, in the request's environ
MEMO_SIZE = 1024  # sessions remembered per process; cleared whole when full
DEFAULT_BUDGET = 4 * 1024 * 1024  # DASHBOARD_PAGE_BYTES
DROPPED = {"x-request-id", "content-length"}  # per answer, written afresh


def register_kept_pages(app: Flask) -> None:
    """Put the kept pages between the kiosk poll (whose connections they share) and Flask."""
    poll = app.wsgi_app
    poll.wsgi_app = KeptPages(app, poll, poll.wsgi_app)


def page_key(query_string: bytes, environ, user_id: int, name: str, rights_text: str,
             changes: int, stations) -> tuple:
    # The mount point too: every link on the page starts with it (a proxy's X-Forwarded-Prefix).
    return (query_string, environ.get("HTTP_HX_REQUEST"), environ.get("HTTP_HX_BOOSTED"),
            environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST"), is_https(environ),
            environ.get("SCRIPT_NAME", ""), user_id, name, rights_text, changes, stations)


def offer(changes: int, stations) -> None:
    """Called by the list view, after drawing, for an answer that depends on nothing but its key
    and the CSRF token (not for errors): the front may keep it."""
    user = current_user
    key = page_key(request.query_string, request.environ, user.id, user.name, user.rights_text,
                   changes, stations)
    request.environ[MARK] = (key, user.id, session.get(_field_name(current_app)),
                             g.get(_field_name(current_app)))


def _field_name(app: Flask) -> str:
    return app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"


class KeptPages:
    def __init__(self, app: Flask, poll, wsgi_app):
        self.app, self.poll, self.wsgi_app = app, poll, wsgi_app
        # (Cookie, User-Agent, X-Forwarded-For, client address) -> (user id, CSRF secret, time
        # until which the cookie verifies): sessions Flask accepted unchanged.
        self.sessions: dict[tuple, tuple[int, str | None, float]] = {}
        self.statement = EarlyStatement(poll, _user_and_stamps)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not self._candidate(environ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        identity = (environ.get("HTTP_COOKIE"), environ.get("HTTP_USER_AGENT"),
                    environ.get("HTTP_X_FORWARDED_FOR"), environ.get("REMOTE_ADDR"))
        known = self.sessions.get(identity)
        if known is not None and time.time() < known[2]:
            kept = self._kept(environ, known)
            if kept is not None:
                return self._answer(environ, start_response, started, *kept)
        return self._through_flask(environ, start_response, identity)

    def _candidate(self, environ) -> bool:
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET"
                or environ.get("CONTENT_LENGTH") not in (None, "", "0")
                or "HTTP_TRANSFER_ENCODING" in environ or not environ.get("HTTP_COOKIE")):
            return False
        config = self.app.config
        return not (config.get("SERVER_NAME") or (config.get("HTTPS") and not is_https(environ)))

    # --- a kept answer ----------------------------------------------------------------------

    def _kept(self, environ, known):
        """(status, headers, body, user name) kept for this request, or None for Flask."""
        cache = self.app.extensions.get("dashboard_pages")
        if cache is None:
            return None
        user_id, csrf_secret, _ = known
        found, row = self.statement.read(user_id=user_id)
        if not found or row is None:
            return None  # a database error, or a user the view would refuse
        user_name, name, rights_text, changes, stations = row
        key = page_key(environ.get("QUERY_STRING", "").encode("latin-1"), environ, user_id,
                       name, rights_text, changes, stations)
        entry = cache.get(key, changes)
        if entry is None:
            return None
        status, headers, parts = entry
        if len(parts) == 1:
            body = parts[0]
        elif csrf_secret is None:
            return None
        else:
            body = self._csrf_token(csrf_secret).encode("ascii").join(parts)
        return status, headers, body, user_name

    def _csrf_token(self, secret: str) -> str:
        """A CSRF token for the session's secret, signed as flask_wtf.csrf.generate_csrf does."""
        config = self.app.config
        key = config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key
        return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(secret)

    def _answer(self, environ, start_response, started, status, headers, body, user_name):
        request_id = early_request_id(environ)
        headers = [*headers, ("X-Request-Id", request_id)]
        if body or not status.startswith("204"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        self.poll.ensure_sender()
        if request_log.isEnabledFor(logging.INFO) and request_log.hasHandlers():
            log_early_answer(environ, started, request_id, int(status[:3]), user=user_name,
                             size=len(body))
        return [body]

    # --- through Flask, keeping what it answered --------------------------------------------

    def _through_flask(self, environ, start_response, identity):
        answered = []

        def capture(status, headers, exc_info=None):
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        offered = environ.get(MARK)
        if offered is None or not answered:
            return result
        status, headers = answered
        if status[:3] not in ("200", "204") or any(n.lower() == "set-cookie" for n, _ in headers):
            return result  # the session changed (a flash shown, a new CSRF secret): not kept
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self._keep(environ, identity, offered, status, headers, body)
        return [body]

    def _keep(self, environ, identity, offered, status, headers, body) -> None:
        key, user_id, csrf_secret, csrf_token = offered
        usable_until = self._cookie_expiry(environ.get("HTTP_COOKIE", ""))
        if usable_until is None:
            return
        parts = body.split(csrf_token.encode("ascii")) if csrf_token else [body]
        kept_headers = [(n, v) for n, v in headers if n.lower() not in DROPPED]
        size = sum(len(p) for p in parts) + sum(len(n) + len(v) for n, v in kept_headers)
        self._cache().put(key, (status, kept_headers, parts), size)
        with self.lock:
            if len(self.sessions) >= MEMO_SIZE:
                self.sessions.clear()
            self.sessions[identity] = (user_id, csrf_secret, usable_until)

    def _cache(self) -> ListCache:
        return process_cache(self.app, "dashboard_pages", ListCache, "DASHBOARD_PAGE_BYTES",
                             DEFAULT_BUDGET)

    def _cookie_expiry(self, cookie_header: str) -> float | None:
        """When the session cookie of this request stops verifying."""
        found = signed_session(self.app, parse_cookie(cookie_header))
        if found is None:
            return None
        return found[1].timestamp() + self.app.permanent_session_lifetime.total_seconds()


def _user_and_stamps(dialect):
    """The user as Flask-Login would load them (active, as UserMixin.is_authenticated asks) and
    both stamps as app.services.orders.list_stamps reads them, in one statement."""
    return (select(User.user_name, User.name, User.rights_text, *stamp_columns(dialect.name))
            .where(User.id == bindparam("user_id"), User.is_active_user.is_(True)))
