"""Settings from the environment. Development and tests get a throwaway secret; nothing else does."""
import os
from datetime import timedelta

from app.database import normalise_url


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    env = overrides.get("ENV") or os.environ.get("ORDERS_ENV", "development")
    default_db = "sqlite:///" + os.path.join(instance_path, "orders.db")
    config = {
        "ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_url(os.environ.get("DATABASE_URL") or default_db),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "AUTO_PROCESS": _flag("AUTO_PROCESS", True),
        "TOKEN_LIFETIME": timedelta(hours=float(os.environ.get("TOKEN_LIFETIME_HOURS", "12"))),
        "REFRESH_LIFETIME": timedelta(days=float(os.environ.get("REFRESH_LIFETIME_DAYS", "30"))),
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "EUR"),
        # Cheap hashing keeps the test suite quick; never used outside tests.
        "FAST_PASSWORD_HASH": False,
        "JSON_SORT_KEYS": False,
    }
    config.update(overrides)
    if not config["SECRET_KEY"]:
        if config["ENV"] in {"development", "testing"}:
            config["SECRET_KEY"] = "dev-only-secret-not-for-production"
        else:
            raise RuntimeError("SECRET_KEY must be set outside development and tests.")
    return config
