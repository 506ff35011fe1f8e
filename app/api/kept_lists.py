"""A list of orders asked again with nothing changed, answered before Flask.

`GET /api/orders` keeps its whole answers per process (app.api.list_cache), keyed by the query
string, whose orders the caller sees, and the change and stations' stamps. Through Flask, a
kept answer still costs a request context, the session, every before/after hook and the token
loaded as ORM objects: most of the time of the answer. Here it costs one statement: the bearer
token checked (known, not revoked, not expired, its user active) together with both stamps.

The rule is the kiosk poll's (app.kiosk_poll): answer only what the view would answer the same
way, and leave everything else to Flask untouched: another method or path, a body, anything but
a bearer token (API keys, cookies), a token that does not check out, an answer not kept under
this key, HTTPS redirects and host matching, a database error. The answer carries what the
view's does (security headers, Vary, X-Request-Id, the same body) and leaves the same log line.
"""
import time

from flask import Flask
from sqlalchemy import DateTime, bindparam, select

from app import rights as R
from app.api.access import bearer_of
from app.early_answer import answer_json
from app.early_statement import EarlyStatement
from app.models import Token, User, utcnow
from app.security import is_https
from app.services.orders import stamp_columns
from app.services.users import API_KEY_PREFIX, hash_secret

PATH = "/api/orders"


def register_kept_lists(app: Flask) -> None:
    """Put the kept lists between the kiosk poll (whose connections they share) and Flask."""
    poll = app.wsgi_app
    poll.wsgi_app = KeptLists(app, poll, poll.wsgi_app)


class KeptLists:
    def __init__(self, app: Flask, poll, wsgi_app):
        self.app, self.poll, self.wsgi_app = app, poll, wsgi_app
        self.statement = EarlyStatement(poll, _token_and_stamps)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        kept = self._kept(environ)
        if kept is None:
            return self.wsgi_app(environ, start_response)
        body, user_name = kept
        return answer_json(self.poll, environ, start_response, body, started=started,
                           user_name=user_name)

    def _kept(self, environ) -> tuple[bytes, str] | None:
        """The kept answer and the caller's user name, or None for Flask to answer."""
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET"
                or environ.get("CONTENT_LENGTH") not in (None, "", "0")
                or "HTTP_TRANSFER_ENCODING" in environ):
            return None
        secret = bearer_of(environ.get("HTTP_AUTHORIZATION", ""))
        if secret is None or secret.startswith(API_KEY_PREFIX):
            return None
        config = self.app.config
        if config.get("SERVER_NAME") or (config.get("HTTPS") and not is_https(environ)):
            return None
        cache = self.app.extensions.get("order_lists")
        if cache is None:
            return None  # nothing kept yet in this process
        found, row = self.statement.read(digest=hash_secret(secret), now=utcnow())
        if not found or row is None:
            return None  # a database error, or a token the view refuses
        user_id, rights, user_name, changes, stations = row
        owner = None if R.sees_all_orders(r for r in rights.split(",") if r) else user_id
        key = (environ.get("QUERY_STRING", "").encode("latin-1"), owner, changes, stations,
               self.app.json.compact, self.app.debug)
        body = cache.get(key, changes)
        return None if body is None else (body, user_name)


def _token_and_stamps(dialect):
    """The token check and both stamps as one statement, written by SQLAlchemy for this
    database, so the stamps read exactly as app.services.orders.list_stamps reads them."""
    return (
        select(User.id, User.rights_text, User.user_name, *stamp_columns(dialect.name))
        .join_from(Token, User, Token.user_id == User.id)
        .where(Token.token_hash == bindparam("digest"), Token.revoked_at.is_(None),
               Token.expires_at > bindparam("now", type_=DateTime()),
               User.is_active_user.is_(True)))

