"""Users, passwords, dashboard sessions and API tokens.

Passwords are hashed with argon2. Tokens are random and long, so a SHA-256 of each is enough to
store: an attacker holding the table cannot turn a hash back into a usable token.

A dashboard session (and its remember-me cookie) names the user and their session version
("<id>:<version>", User.get_id). Moving the version on ends every such session at once: signing
out everywhere does, and so do a new password, other rights and deactivation, since each means
the sessions signed in before no longer speak for the person as they now are.
"""
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select

from app.core import rights as R
from app.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, Unauthenticated
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import ApiKey, Device, Token, User, utcnow
from app.services.common import check_version

_hasher = PasswordHasher()
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Verifying against this when the user does not exist keeps the timing of a wrong user name
# and a wrong password alike.
_DUMMY_HASH = _hasher.hash("not-a-password")


def _password_hasher() -> PasswordHasher:
    return _fast_hasher if current_app.config.get("FAST_PASSWORD_HASH") else _hasher


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_rights(values) -> list[str]:
    found, unknown = [], []
    for value in values:
        name = R.canonical(value) if isinstance(value, str) else None
        (found if name else unknown).append(name or str(value))
    if unknown:
        raise Invalid([FieldError("rights", f"Unknown right(s): {', '.join(unknown)}; "
                                            f"use {', '.join(R.ALL)}.")])
    return sorted(set(found))


def save_user(*, user_name: str, password: str, name: str | None = None,
              rights=()) -> User:
    """Create the user, or update the password, name and rights of an existing one."""
    errors = []
    if not user_name or len(user_name) > 80:
        errors.append(FieldError("userName", "A user name of 1 to 80 characters is required."))
    if not password or len(password) < 8:
        errors.append(FieldError("password", "A password of at least 8 characters is required."))
    if errors:
        raise Invalid(errors)
    parsed_rights = parse_rights(rights)
    password_hash = _password_hasher().hash(password)
    with write_transaction() as session:
        user = session.scalar(select(User).where(User.user_name == user_name).with_for_update())
        if user is None:
            user = User(user_name=user_name, name=name or user_name)
            session.add(user)
        else:
            user.version += 1  # an admin's form drawn before this is now stale
            # A new password (and perhaps other rights): the sessions signed in before end.
            user.session_version += 1
            if name:
                user.name = name
        user.password_hash = password_hash
        user.rights = parsed_rights
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.user_name)))


def find_user(user_id) -> User:
    """The user with this id; NotFound when there is none."""
    user = get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _require_admin(user: User) -> None:
    if user is None or R.ADMIN not in user.rights:
        raise Forbidden("Managing users needs the admin right.")


def _profile_errors(*, name, password, password_required: bool) -> list[FieldError]:
    errors = []
    if name is not None and (not name.strip() or len(name) > 120):
        errors.append(FieldError("name", "A name has 1 to 120 characters."))
    if (password_required or password) and not 8 <= len(password or "") <= 200:
        errors.append(FieldError("password", "A password has 8 to 200 characters."))
    return errors


def create_user(*, user: User, user_name: str, password: str, name: str | None = None,
                rights=()) -> User:
    """A new active user, made by the admin `user`. Raises Forbidden for a non-admin, Invalid
    for bad fields or a user name already taken (unlike save_user, never overwrites)."""
    _require_admin(user)
    user_name = (user_name or "").strip()
    errors = _profile_errors(name=name or None, password=password, password_required=True)
    if not user_name or len(user_name) > 80:
        errors.insert(0, FieldError("userName", "A user name of 1 to 80 characters is required."))
    try:
        parsed_rights = parse_rights(rights)
    except Invalid as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise Invalid(errors)
    password_hash = _password_hasher().hash(password)
    with write_transaction() as session:
        if session.scalar(select(User.id).where(User.user_name == user_name)) is not None:
            raise Invalid([FieldError("userName", f"The user name {user_name!r} is taken.")])
        created = User(user_name=user_name, name=(name or "").strip() or user_name,
                       password_hash=password_hash, is_active_user=True)
        created.rights = parsed_rights
        session.add(created)
    return created


def update_user(*, user: User, user_id: int, name: str, rights, is_active: bool,
                password: str | None = None, version: int | None = None) -> User:
    """Change another user's (or one's own) name, rights, active flag and, when given, password.

    Only an admin may; an admin can neither drop their own admin right nor deactivate
    themselves, so at least one admin always remains. A `version` older than the user's
    changes nothing. Raises Forbidden, NotFound, Invalid, VersionMismatch.
    """
    _require_admin(user)
    errors = _profile_errors(name=name or "", password=password, password_required=False)
    try:
        parsed_rights = parse_rights(rights)
    except Invalid as invalid:
        errors.extend(invalid.errors)
        parsed_rights = None
    if user.id == user_id:
        if parsed_rights is not None and R.ADMIN not in parsed_rights:
            errors.append(FieldError("rights", "You cannot remove your own admin right; "
                                               "ask another admin to do it."))
        if not is_active:
            errors.append(FieldError("isActive", "You cannot deactivate yourself; ask another "
                                                 "admin to do it."))
    if errors:
        raise Invalid(errors)
    password_hash = _password_hasher().hash(password) if password else None
    with write_transaction() as session:
        target = session.scalar(select(User).where(User.id == user_id).with_for_update())
        if target is None:
            raise NotFound("No such user.")
        check_version(target.version, version)
        ends_sessions = (bool(password_hash) or target.rights != parsed_rights
                         or (target.is_active_user and not is_active))
        target.version += 1
        if ends_sessions:
            target.session_version += 1
        target.name = name.strip()
        target.rights = parsed_rights
        target.is_active_user = bool(is_active)
        if password_hash:
            target.password_hash = password_hash
    return target


def get_user(user_id) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def load_session_user(session_id) -> User | None:
    """The user a dashboard session or remember-me cookie speaks for ("<id>:<session version>",
    User.get_id), or None when it is stale: signed in before the version moved on, in the form
    used before versions existed, or for a user who can no longer sign in."""
    user_id, colon, version = str(session_id or "").partition(":")
    if not colon or not user_id.isdigit() or not version.isdigit():
        return None
    # populate_existing: the user may already be in this database session from before the
    # version moved on; the check must see the stored version.
    user = db.session.get(User, int(user_id), populate_existing=True)
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


def end_all_sessions(*, user) -> User:
    """Sign the user out of every browser: each session and remember-me cookie they hold, this
    one included, is refused from its next request on."""
    with write_transaction() as session:
        target = session.scalar(select(User).where(User.id == user.id).with_for_update())
        if target is None:
            raise NotFound("No such user.")
        target.session_version += 1
    return target


def check_password(user_name: str, password: str) -> User:
    """The active user with these credentials; Unauthenticated without saying which part failed."""
    user = db.session.scalar(select(User).where(User.user_name == user_name))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _password_hasher().verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise Unauthenticated("The user name or password is wrong.")
    return user


def _issue_token(session, user: User, device: Device | None) -> tuple[Token, str, str]:
    token_id, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    token = Token(
        user=user, device=device, created_at=now,
        token_hash=hash_secret(token_id), refresh_hash=hash_secret(refresh),
        expires_at=now + current_app.config["TOKEN_LIFETIME"],
        refresh_expires_at=now + current_app.config["REFRESH_LIFETIME"],
    )
    session.add(token)
    return token, token_id, refresh


def sign_in(*, user_name: str, password: str, device_name: str | None = None):
    """Check the credentials and issue a token pair. Returns (token, token_id, refresh_token)."""
    user = check_password(user_name, password)
    if device_name is not None and (not device_name.strip() or len(device_name) > 80):
        raise Invalid([FieldError("deviceName", "A device name has 1 to 80 characters.")])
    with write_transaction() as session:
        device = None
        if device_name:
            device = session.scalar(select(Device).where(Device.name == device_name.strip()))
            if device is None:
                device = Device(name=device_name.strip())
                session.add(device)
        return _issue_token(session, user, device)


@dataclass(frozen=True)
class Credential:
    """Who a bearer secret speaks for: a signed-in token, or one of the user's API keys."""
    user: User
    device: Device | None = None
    token: Token | None = None
    api_key: ApiKey | None = None


API_KEY_PREFIX = "ohk_"


# Every API request authenticates: the token, its user and its device come in one statement.
_TOKEN_WITH_USER = (select(Token, User, Device).join(User, Token.user_id == User.id)
                    .outerjoin(Device, Token.device_id == Device.id)
                    .where(Token.token_hash == bindparam("digest")))
_API_KEY_WITH_USER = (select(ApiKey, User).join(User, ApiKey.user_id == User.id)
                      .where(ApiKey.key_hash == bindparam("digest")))


def authenticate(secret: str) -> Credential | None:
    """The credential for a bearer secret, or None when unknown, expired or revoked.

    The secret's row, its user and its device come in one statement (the relationships then
    find them in the session without another). An unknown secret leaves nothing in the
    session; a known one that is refused leaves its objects, as loading them would."""
    if not secret:
        return None
    if secret.startswith(API_KEY_PREFIX):
        row = db.session.execute(_API_KEY_WITH_USER, {"digest": hash_secret(secret)}).first()
        if row is None:
            return None
        key, user = row
        if key.revoked_at is not None or not user.is_active:
            return None
        return Credential(user=user, api_key=key)
    row = db.session.execute(_TOKEN_WITH_USER, {"digest": hash_secret(secret)}).first()
    if row is None:
        return None
    token, user, device = row
    if not _live(token.revoked_at, token.expires_at, user.is_active):
        return None
    return Credential(user=user, device=device, token=token)


def _live(revoked_at, expires_at, user_is_active: bool) -> bool:
    """A signed-in token speaks for its user until revoked or expired, while the user is
    active."""
    return revoked_at is None and expires_at > utcnow() and user_is_active


@dataclass(frozen=True)
class PlainUser:
    """What a service needs of the signed-in user, as plain values rather than an ORM object."""
    id: int
    user_name: str
    name: str
    rights: list[str]


def plain_user(user) -> PlainUser:
    """A User (or a PlainUser) as plain values: they stay readable after a rolled back
    transaction expires the User object."""
    if isinstance(user, PlainUser):
        return user
    return PlainUser(user.id, user.user_name, user.name, user.rights)


def list_api_keys(*, user: User) -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)
                                   .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def create_api_key(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for the user; the secret is returned once and only its hash is kept."""
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise Invalid([FieldError("name", "A name of 1 to 80 characters is required.")])
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with write_transaction() as session:
        key = ApiKey(user_id=user.id, name=name.strip(), prefix=secret[:12],
                     key_hash=hash_secret(secret))
        session.add(key)
    return key, secret


def revoke_api_key(*, user: User, key_id: int) -> ApiKey:
    """Revoke one of the user's own keys; another user's key is NotFound."""
    with write_transaction() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id)
                             .with_for_update())
        if key is None:
            raise NotFound("No such API key.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    return key


def refresh_token(*, token_id: str, refresh: str):
    """Swap a token pair for a new one; the old pair stops working."""
    with write_transaction() as session:
        token = session.scalar(
            select(Token).where(Token.token_hash == hash_secret(token_id or ""))
            .with_for_update()
        )
        if (token is None or token.revoked_at is not None
                or not secrets.compare_digest(token.refresh_hash, hash_secret(refresh or ""))
                or token.refresh_expires_at <= utcnow() or not token.user.is_active):
            raise Unauthenticated("The token pair is not valid.")
        token.revoked_at = utcnow()
        return _issue_token(session, token.user, token.device)


def sign_out(credential: Credential) -> None:
    """End the token's session. API keys are not signed out but revoked (revoke_api_key)."""
    if credential.token is None:
        raise Conflict("An API key does not sign out; revoke it on the API keys page.",
                       member_name="Authorization")
    with write_transaction() as session:
        live = session.get(Token, credential.token.id, with_for_update=True)
        if live.revoked_at is None:
            live.revoked_at = utcnow()
