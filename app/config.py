"""Settings from the environment.

The mode comes from ORDERS_ENV. Only an explicit `development` or `testing` may run without a
SECRET_KEY, on the development key published with the source. An unset ORDERS_ENV counts as
production, so a server started without any settings refuses to start instead of signing
sessions with a key anyone can read.
"""
import os
from datetime import timedelta

from app.core import encryption
from app.core.times import zone_named
from app.db.engine import normalise_url

DEVELOPMENT_MODES = ("development", "testing")
# Published with the source, so it protects nothing: accepted only in the modes above.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-not-for-production"


class SettingsError(RuntimeError):
    """A setting the server cannot start with. The message is one sentence that says what to do;
    entry points (wsgi.py, gunicorn.conf.py) show it without a traceback."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    env = overrides.get("ENV") or os.environ.get("ORDERS_ENV") or "production"
    default_db = "sqlite:///" + os.path.join(instance_path, "orders.db")
    config = {
        "ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_url(os.environ.get("DATABASE_URL") or default_db),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "AUTO_PROCESS": _flag("AUTO_PROCESS", True),
        "TOKEN_LIFETIME": timedelta(hours=float(os.environ.get("TOKEN_LIFETIME_HOURS", "12"))),
        "REFRESH_LIFETIME": timedelta(days=float(os.environ.get("REFRESH_LIFETIME_DAYS", "30"))),
        # Dashboard sign-ins (app.web.auth): a sign-in lasts SESSION_LIFETIME, measured from the
        # sign-in; "Keep me signed in" then signs the browser in again for up to REMEMBER_DAYS.
        "SESSION_LIFETIME": timedelta(hours=float(os.environ.get("SESSION_LIFETIME_HOURS",
                                                                 "12"))),
        "REMEMBER_COOKIE_DURATION": timedelta(days=float(os.environ.get("REMEMBER_DAYS", "14"))),
        # Keys that encrypt webhook stations' secrets at rest (app.core.encryption).
        "SECRET_ENCRYPTION_KEYS": os.environ.get("SECRET_ENCRYPTION_KEYS", ""),
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "EUR"),
        # The time zone pages show times in, unless a user chose their own (IANA name).
        "SITE_TIMEZONE": os.environ.get("SITE_TIMEZONE", "UTC"),
        # Cheap hashing keeps the test suite quick; never used outside tests.
        "FAST_PASSWORD_HASH": False,
        "JSON_SORT_KEYS": False,
        # Serving (app.http.security, app.http.limits, app.http.logs, app.http.idempotency).
        # HTTPS: the site is reached over HTTPS (directly or through a proxy), so cookies are
        # Secure and plain-HTTP requests are redirected.
        "HTTPS": _flag("HTTPS", False),
        # How many proxies in front of the app set X-Forwarded-*; 0 trusts none of them.
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", env != "testing"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "SIGN_IN_LIMIT_PER_ACCOUNT": os.environ.get("SIGN_IN_LIMIT_PER_ACCOUNT",
                                                    "10 per minute"),
        "SIGN_IN_LIMIT_PER_ADDRESS": os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS",
                                                    "60 per minute"),
        "IDEMPOTENCY_KEY_LIFETIME": timedelta(
            hours=float(os.environ.get("IDEMPOTENCY_KEY_LIFETIME_HOURS", "24"))),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text" if env in {"development", "testing"}
                                     else "json"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Dispatch to printer and webhook stations (app.dispatch). Each server process sends in
        # a background thread; switch that off when a separate `flask dispatch` process sends.
        "DISPATCH_IN_BACKGROUND": _flag("DISPATCH_IN_BACKGROUND", env != "testing"),
        "DISPATCH_CONNECT_TIMEOUT": _seconds("DISPATCH_CONNECT_TIMEOUT", 3),
        "DISPATCH_SEND_TIMEOUT": _seconds("DISPATCH_SEND_TIMEOUT", 5),
        # A job claimed longer ago than this whose outcome was never recorded is in doubt: the
        # process sending it stopped. Longer than any one attempt can take.
        "DISPATCH_LEASE_SECONDS": _seconds("DISPATCH_LEASE_SECONDS", 60),
        # Back-off between attempts: this, then doubling, up to the last attempt.
        "DISPATCH_RETRY_SECONDS": _seconds("DISPATCH_RETRY_SECONDS", 2),
        "DISPATCH_MAX_ATTEMPTS": int(os.environ.get("DISPATCH_MAX_ATTEMPTS", "6")),
        "DISPATCH_POLL_SECONDS": _seconds("DISPATCH_POLL_SECONDS", 1),
        # Station health (app.services.station_health): a display station no screen has asked
        # for its board for this long is unwatched; a printer or webhook whose last this many
        # attempts failed is failing. Either hands its entries to its backup station. A screen's
        # "last seen" is written at most once per STATION_SEEN_WRITE_SECONDS.
        "STATION_UNWATCHED_SECONDS": _seconds("STATION_UNWATCHED_SECONDS", 60),
        "STATION_FAILING_ATTEMPTS": int(os.environ.get("STATION_FAILING_ATTEMPTS", "3")),
        "STATION_SEEN_WRITE_SECONDS": _seconds("STATION_SEEN_WRITE_SECONDS", 10),
        # The event feed (app.services.events): events older than this many days are deleted
        # (by the sender, hourly, and by `flask prune-events`).
        "EVENT_RETENTION_DAYS": float(os.environ.get("EVENT_RETENTION_DAYS", "28")),
        # Webhook subscriptions (app.services.webhooks): a failed delivery is tried again after
        # this, doubling up to the longest wait, for this many hours from its first attempt.
        "WEBHOOK_RETRY_SECONDS": _seconds("WEBHOOK_RETRY_SECONDS", 10),
        "WEBHOOK_RETRY_MAX_SECONDS": _seconds("WEBHOOK_RETRY_MAX_SECONDS", 3600),
        "WEBHOOK_RETRY_HOURS": float(os.environ.get("WEBHOOK_RETRY_HOURS", "24")),
        # Database waits, in seconds (app.db.engine): a row lock not had in time answers 423
        # (SQLite: its busy timeout); a statement running longer is cancelled (PostgreSQL);
        # connecting, or waiting for a pooled connection, gives up after the last.
        "DB_LOCK_TIMEOUT": _seconds("DB_LOCK_TIMEOUT", 10),
        "DB_STATEMENT_TIMEOUT": _seconds("DB_STATEMENT_TIMEOUT", 30),
        "DB_CONNECT_TIMEOUT": _seconds("DB_CONNECT_TIMEOUT", 5),
        # Serialised orders each process keeps (app.caching.order_documents), in bytes.
        "ORDER_DOCUMENT_BYTES": int(os.environ.get("ORDER_DOCUMENT_BYTES", 16 * 1024 * 1024)),
        # Drawn dashboard rows and kiosk cards each process keeps (app.caching), in bytes.
        "ORDER_ROW_BYTES": int(os.environ.get("ORDER_ROW_BYTES", 4 * 1024 * 1024)),
        "KIOSK_CARD_BYTES": int(os.environ.get("KIOSK_CARD_BYTES", 2 * 1024 * 1024)),
    }
    config.update(overrides)
    # Secure cookies follow HTTPS unless set on their own.
    config.setdefault("SESSION_COOKIE_SECURE", config["HTTPS"])
    config.setdefault("REMEMBER_COOKIE_SECURE", config["HTTPS"])
    if config["HTTPS"]:
        config.setdefault("PREFERRED_URL_SCHEME", "https")
    attempt = config["DISPATCH_CONNECT_TIMEOUT"] + config["DISPATCH_SEND_TIMEOUT"]
    if config["DISPATCH_LEASE_SECONDS"] <= attempt:
        raise SettingsError("DISPATCH_LEASE_SECONDS must be longer than one attempt "
                            "(DISPATCH_CONNECT_TIMEOUT + DISPATCH_SEND_TIMEOUT).")
    if config["STATION_SEEN_WRITE_SECONDS"] * 2 > config["STATION_UNWATCHED_SECONDS"]:
        raise SettingsError("STATION_SEEN_WRITE_SECONDS must be at most half of "
                            "STATION_UNWATCHED_SECONDS, or a watched station looks unwatched.")
    if zone_named(config["SITE_TIMEZONE"]) is None:
        raise SettingsError(f"SITE_TIMEZONE {config['SITE_TIMEZONE']!r} is not a time zone of "
                            "this system; use an IANA name such as Europe/Amsterdam.")
    _check_secret_key(config)
    _load_encryption_keys(config)
    return config


def _check_secret_key(config: dict) -> None:
    development = config["ENV"] in DEVELOPMENT_MODES
    if not config["SECRET_KEY"]:
        if not development:
            raise SettingsError("SECRET_KEY is not set: give it a long random value, or set "
                                "ORDERS_ENV=development to run with the public development "
                                "key.")
        config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
    elif config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY and not development:
        raise SettingsError("SECRET_KEY is the development key published with the source: "
                            "give it a long random value of your own.")


def _load_encryption_keys(config: dict) -> None:
    """SECRET_ENCRYPTION_KEYS as a list of keys, the first one encrypting. Development and tests
    may go without: their key is derived from SECRET_KEY. Elsewhere an empty list means webhook
    secrets cannot be stored or used, which app.services.stations and the sender say."""
    text = config["SECRET_ENCRYPTION_KEYS"]
    if isinstance(text, (list, tuple)):
        text = ",".join(text)
    try:
        keys = encryption.parse_keys(text or "")
    except ValueError as bad:
        raise SettingsError(f"SECRET_ENCRYPTION_KEYS: {bad}") from None
    if not keys and config["ENV"] in DEVELOPMENT_MODES:
        keys = [encryption.derived_key(config["SECRET_KEY"])]
    config["SECRET_ENCRYPTION_KEYS"] = keys
