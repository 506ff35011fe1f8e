"""The event feed for integrators, and webhook subscriptions with their deliveries."""
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.columns import new_guid, utcnow


class Event(db.Model):
    """One change the hub made, numbered in commit order (app.services.events).

    `sequence` is handed out under the change counter's row lock in the writing transaction, so
    sequences are gap-free and a reader never sees a later one committed before an earlier one.
    `order_document` is the order as the API served it when the change was made (compact JSON),
    so an event outlives later changes, and the order's deletion, unchanged. `user_id` is the
    order's creator: whose events a customer sees."""
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_user_sequence", "user_id", "sequence"),
                      Index("ix_events_order_sequence", "order_id", "sequence"))
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    order_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(80))
    order_document: Mapped[str] = mapped_column(Text)


# pending -> sending -> delivered; a failed attempt goes back to pending (with back-off) until
# the retry period is over (failed). A redelivery is a new delivery of the same event.
PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"


class WebhookSubscription(db.Model):
    """An integrator's endpoint: the events of these types are posted to `url`, signed with the
    secret (kept encrypted, app.core.encryption). `last_sequence` is how far the feed has been
    read for it: every later event of its types gets a delivery."""
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event to post to one subscription, with what came of its attempts so far."""
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's question: what is due now?
        Index("ix_webhook_deliveries_state_due", "state", "next_try_at"),
        # In sequence order per order: is an earlier delivery of this order still on its way?
        Index("ix_webhook_deliveries_order", "subscription_id", "order_id", "sequence"),
        # The log, newest first.
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(30))
    # The receiver's key: the same on every attempt, new for a redelivery.
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)
    redelivery_of: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_try_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    subscription: Mapped[WebhookSubscription] = relationship()
