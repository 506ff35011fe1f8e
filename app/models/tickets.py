"""Tickets: the open bills of the point of sale (contract 3.1)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import order_types
from app.extensions import db
from app.models.accounts import Device, User
from app.models.columns import QUANTITY, CodeList, ModifierList, new_guid, utcnow


class Ticket(db.Model):
    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    name: Mapped[str] = mapped_column(String(120))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the orders generated from now on carry (contract 7).
    is_rush: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    order_type: Mapped[str] = mapped_column(String(10), default=order_types.DEFAULT,
                                            server_default=order_types.DEFAULT)
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
    # Canonical (app.core.modifiers, app.core.allergens): part of the line's key.
    modifiers: Mapped[tuple] = mapped_column(ModifierList(), default=(), nullable=True)
    allergies: Mapped[tuple] = mapped_column(CodeList(), default=(), nullable=True)
