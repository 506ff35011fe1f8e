"""The web shop's side (contract 3.2): a customer's projects and baskets not yet placed."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.columns import QUANTITY, new_guid, utcnow


class Project(db.Model):
    """A customer's own printable item, made into a product by a basket line."""
    __tablename__ = "projects"
    guid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    product_code: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Basket(db.Model):
    __tablename__ = "baskets"
    guid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_saved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    lines: Mapped[list["BasketLine"]] = relationship(
        order_by="BasketLine.id", cascade="all, delete-orphan")


class BasketLine(db.Model):
    __tablename__ = "basket_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    basket_guid: Mapped[str] = mapped_column(
        ForeignKey("baskets.guid", ondelete="CASCADE"), index=True)
    project_guid: Mapped[str | None] = mapped_column(ForeignKey("projects.guid"), index=True)
    product_code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
