"""People and their credentials: users, the devices they sign in from, API tokens and keys."""
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.columns import utcnow

if TYPE_CHECKING:
    from app.models.catalog import Station


def rights_of(text: str) -> list[str]:
    """The rights stored in a user's rights column (comma-separated)."""
    return [r for r in text.split(",") if r]


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    rights_text: Mapped[str] = mapped_column("rights", String(255), default="")
    is_active_user: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The person's own settings (app.services.user_settings): the IANA time zone pages
    # show times in (None: the site's, SITE_TIMEZONE) and the page "/" and signing in lead to
    # (None: the order list; "expo"; or "station:<name>", a station's screen).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    home_screen: Mapped[str | None] = mapped_column(String(100))
    # Every dashboard session and remember-me cookie carries the value it was signed in at;
    # moving it on (sign out everywhere, a new password, other rights, deactivation) makes
    # all of them stale at once (app.services.users.load_session_user).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and signs into the remember-me cookie."""
        return f"{self.id}:{self.session_version}"

    @property
    def rights(self) -> list[str]:
        return rights_of(self.rights_text)

    @rights.setter
    def rights(self, values) -> None:
        self.rights_text = ",".join(sorted(set(values)))

    @property
    def is_active(self) -> bool:
        return self.is_active_user


class Device(db.Model):
    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    default_station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    default_station: Mapped["Station | None"] = relationship()


class Token(db.Model):
    """A signed-in session of the API. Only hashes of the secrets are stored."""
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    refresh_expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()
    device: Mapped[Device | None] = relationship()


class ApiKey(db.Model):
    """A long-lived bearer secret a user makes for an integration; carries the user's rights."""
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()
