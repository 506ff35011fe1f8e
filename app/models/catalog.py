"""Stations (the sources' order endpoints), products and the routing between them, and the
named counters."""
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text
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
