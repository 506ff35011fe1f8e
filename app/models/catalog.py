"""Stations (the sources' order endpoints), products and the routing between them, and the
named counters."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.columns import MONEY, CodeList


class Station(db.Model):
    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    type: Mapped[str] = mapped_column(String(20), default="display")
    address: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The webhook signing secret, encrypted (app.core.encryption); only the sender decrypts it.
    encrypted_secret: Mapped[str | None] = mapped_column(Text)
    # A secret saved before secrets were encrypted, still in plain text until `flask
    # rotate-secrets` encrypts it; nothing writes it any more.
    plain_secret: Mapped[str | None] = mapped_column("secret", String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Where its entries go while it fails or nobody watches it (app.services.station_health).
    # A plain column, not a foreign key: adding one on SQLite would copy the table, which the
    # order tables reference; app.services.stations keeps it pointing at a station.
    backup_station_id: Mapped[int | None] = mapped_column(Integer)
    # Printers and webhooks: attempts failed in a row, and when one last went out.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    backup: Mapped["Station | None"] = relationship(
        primaryjoin="foreign(Station.backup_station_id) == remote(Station.id)", viewonly=True)


class StationScreen(db.Model):
    """One screen (a browser) showing a display station, and when it last asked for its
    board: how a station is known to be watched, across server processes."""
    __tablename__ = "station_screens"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"),
                                            primary_key=True)
    screen_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, index=True)


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
    prep_seconds: Mapped[int | None] = mapped_column(Integer)  # how long it takes to make
    # The allergens it contains (app.core.allergens), canonical.
    allergens: Mapped[tuple] = mapped_column(CodeList(), default=(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    stations: Mapped[list[Station]] = relationship(
        secondary=product_stations, order_by=Station.name
    )


class Counter(db.Model):
    """Named counters; `order_number` hands out order numbers under a row lock."""
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
