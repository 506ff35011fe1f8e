"""`Idempotency-Key` on the API's creating POST routes: a retry creates nothing new.

A client that sends `Idempotency-Key: <its own unique string>` and does not hear back can send
the very same request again: the first answer (status, body, Location, ETag) comes back, marked
`Idempotent-Replayed: true`, and nothing is created twice. The same key with a different
request (another body or route) is refused with 422. Keys belong to the signed-in user and are
kept for `IDEMPOTENCY_KEY_LIFETIME` (24 h by default).

How it holds under concurrency: the key is claimed by inserting its row at the start of the
request's one write transaction, and its answer is stored in the same transaction. A twin
request racing the first blocks on the unique (user, key) index until the first commits, then
fails to insert, rolls back having done nothing, and replays the stored answer. If the first
fails (an error answer), its transaction rolls back with the claim, so errors are never
replayed: a retry runs again.
"""
import hashlib
import re
from datetime import datetime
from functools import wraps

from flask import Response, current_app, g, make_response, request
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.errors import DomainError, FieldError, Invalid
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Printable ASCII without spaces, as the IETF draft's examples (UUIDs, random tokens).
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")

# The POST routes that create something. /api/auth issues tokens and is not one of them.
ENDPOINTS = frozenset({
    "api.create_ticket", "api.create_product", "api.create_station", "api.create_project",
    "api.create_basket", "api.add_basket_line", "api.checkout_basket", "api.create_webhook",
})


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KeyReused(DomainError):
    """The key was used before for a different request."""

    def __init__(self):
        super().__init__(f"This {HEADER} was used for a different request; use a new key for "
                         "a new request.")
        self.errors = [FieldError(HEADER, self.message, "idempotencyKeyReused")]


class _Unstored(Exception):
    """A view answered without success: roll the claim back and answer as it did."""

    def __init__(self, response: Response):
        self.response = response


def request_fingerprint() -> str:
    """A hash of what makes two requests the same: method, path and body (JSON compared by
    value, so key order and spacing do not matter)."""
    raw = request.get_data(cache=True)
    try:
        # The app's reader: numbers exact, and a body nested too deeply is a ValueError here.
        body = current_app.json.dumps(current_app.json.loads(raw), sort_keys=True,
                                      separators=(",", ":")).encode() if raw else b""
    except ValueError:
        body = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _given_key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise Invalid([FieldError(HEADER, f"An {HEADER} has 1 to 255 printable ASCII "
                                          "characters and no spaces.")])
    return key


def _cutoff() -> datetime:
    return utcnow() - current_app.config["IDEMPOTENCY_KEY_LIFETIME"]


def find_key(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at >= _cutoff()))


def replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise KeyReused()
    response = Response(stored.body, status=stored.status_code, headers=stored.headers)
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view):
    """Run `view` once per (user, Idempotency-Key); `g.user` is the authenticated caller."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _given_key()
        if key is None:
            return view(*args, **kwargs)
        user_id, fingerprint = g.user.id, request_fingerprint()
        stored = find_key(user_id, key)
        if stored is not None:
            return replay(stored, fingerprint)
        try:
            with write_transaction() as session:
                # Expired keys of this user go, so a key may be used again after its lifetime.
                session.execute(delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < _cutoff()))
                claim = IdempotencyKey(user_id=user_id, key=key, request_hash=fingerprint,
                                       status_code=0, headers={}, body="", created_at=utcnow())
                session.add(claim)
                session.flush()  # a concurrent twin waits here until this one commits
                response = make_response(view(*args, **kwargs))
                if not 200 <= response.status_code < 300:
                    raise _Unstored(response)
                claim.status_code = response.status_code
                claim.body = response.get_data(as_text=True)
                claim.headers = {name: response.headers[name] for name in _KEPT_HEADERS
                                 if name in response.headers}
        except _Unstored as unstored:
            return unstored.response
        except IntegrityError:
            db.session.rollback()
            stored = find_key(user_id, key)
            if stored is None:
                raise  # a conflict of the view's own making
            return replay(stored, fingerprint)
        return response
    return wrapper
