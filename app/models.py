"""Tables and relationships. Derived statuses are computed in app.status; the order's own status
is stored as well (kept in step by the services) so lists can filter and sort on it in SQL."""
import os
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

MONEY = Numeric(18, 4)
QUANTITY = Numeric(14, 3)


def utcnow() -> datetime:
    """Naive UTC, to the millisecond: both databases store timestamps without a zone, and the
    API shows milliseconds, so a time read from an answer filters exactly on the stored one."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None, microsecond=now.microsecond // 1000 * 1000)


def new_guid() -> str:
    return str(uuid.uuid4())


def new_ordered_guid() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (version 7, RFC 9562).

    For rows written often under an index on their key (orders, and their entries, items, cells
    and history by order): a random key puts each insert on a random page of every such index,
    read from disk and written again at commit; keys in time order land on the last pages, which
    are already in memory. At a million orders a ticket update's five inserts cost five times
    less. The other 74 bits are random, so a key is still not guessable from its neighbours."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
             | 0b10 << 62 | rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


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


class Station(db.Model):
    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    type: Mapped[str] = mapped_column(String(20), default="display")
    address: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secret: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)


product_stations = Table(
    "product_stations",
    db.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
)


class Product(db.Model):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    course: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    stations: Mapped[list[Station]] = relationship(
        secondary=product_stations, order_by=Station.name
    )


class Counter(db.Model):
    """Named counters; `order_number` hands out order numbers under a row lock."""
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(db.Model):
    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    name: Mapped[str] = mapped_column(String(120))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    last_saved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    device: Mapped[Device | None] = relationship()
    user: Mapped[User] = relationship()
    items: Mapped[list["TicketItem"]] = relationship(
        order_by="TicketItem.position", cascade="all, delete-orphan"
    )

    # As app.services.ticket_rows.TicketRow names them, so one serializer shows both.
    @property
    def device_name(self) -> str | None:
        return self.device.name if self.device else None

    @property
    def user_user_name(self) -> str:
        return self.user.user_name

    @property
    def user_name(self) -> str:
        return self.user.name


class TicketItem(db.Model):
    __tablename__ = "ticket_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    product_code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    note: Mapped[str | None] = mapped_column(String(500))
    course: Mapped[int | None] = mapped_column(Integer)


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
