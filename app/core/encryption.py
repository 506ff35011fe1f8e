"""Encryption at rest for secrets the hub must use again: webhook stations' signing keys.

A password or a token can be kept as a hash; a signing key cannot, since signing needs the key
itself. Such a secret is kept encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from the
cryptography package) under the keys of the setting SECRET_ENCRYPTION_KEYS: the first one
encrypts, every one decrypts (MultiFernet). Rotating means putting a new key first, running
`flask rotate-secrets` (which encrypts everything again under it), then dropping the old key.

Callers pass the list of keys (app.config["SECRET_ENCRYPTION_KEYS"]); nothing here reads
settings, so a sender thread outside any request can use it.
"""
import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeysMissing(Exception):
    """No key to encrypt or decrypt with: SECRET_ENCRYPTION_KEYS is unset outside development."""


class Undecryptable(Exception):
    """None of the keys opens this value: it was encrypted under a key no longer configured."""


MISSING = ("SECRET_ENCRYPTION_KEYS is not set, so webhook secrets can be neither stored nor "
           "used (README, Configuration).")


def parse_keys(text: str) -> list[str]:
    """The comma-separated keys of the setting. Raises ValueError naming a malformed one."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(f"key {position} is not a Fernet key (32 random bytes in url-safe "
                             "base64, as `Fernet.generate_key()` makes).") from None
    return keys


def derived_key(secret_key: str) -> str:
    """The key development and tests use when no key is set: an HMAC of SECRET_KEY under a
    label of its own, so the session signing key is not used for a second purpose as it is."""
    digest = hmac.new(secret_key.encode(), b"orders-hub secret encryption",
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _ring(keys) -> MultiFernet:
    if not keys:
        raise KeysMissing(MISSING)
    return _keyring(tuple(keys))


def encrypt(text: str, keys) -> str:
    """`text` encrypted under the first key, as text for a database column."""
    return _ring(keys).encrypt(text.encode()).decode()


def decrypt(token: str, keys) -> str:
    """The text `encrypt` was given. Raises KeysMissing, Undecryptable."""
    try:
        return _ring(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable("No key in SECRET_ENCRYPTION_KEYS opens the stored secret.") from None


def reencrypt(token: str, keys) -> str:
    """The same text encrypted again under the first key. Raises KeysMissing, Undecryptable."""
    try:
        return _ring(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable("No key in SECRET_ENCRYPTION_KEYS opens the stored secret.") from None
