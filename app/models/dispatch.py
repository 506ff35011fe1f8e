"""Sending orders to printer and webhook stations: jobs and the log of their attempts."""
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.catalog import Station
from app.models.columns import new_guid, utcnow
from app.models.orders import Order, OrderEntry

DISPATCH, REPRINT = "dispatch", "reprint"
# queued → sending → sent; a failed attempt goes back to queued (with back-off) until the
# attempts run out (failed); a sending job whose process stopped before it recorded the outcome
# becomes unknown: it may or may not have printed, so it is never sent again by itself.
QUEUED, SENDING, SENT, FAILED, UNKNOWN = "queued", "sending", "sent", "failed", "unknown"


class DispatchJob(db.Model):
    """One slip to print or one delivery to make, sent at most once unless a user reprints."""
    __tablename__ = "dispatch_jobs"
    __table_args__ = (
        # The sender's question: what is due now?
        Index("ix_dispatch_jobs_state_due", "state", "due_at"),
        # An entry is dispatched by one job, whatever number of processing runs ask for it.
        Index("uq_dispatch_jobs_entry", "entry_id", unique=True,
              sqlite_where=text("kind = 'dispatch'"),
              postgresql_where=text("kind = 'dispatch'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("order_entries.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))
    # The receiver's key for telling a retry of one delivery from a new one.
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_guid)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    requested_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    order: Mapped[Order] = relationship()
    entry: Mapped[OrderEntry] = relationship()
    station: Mapped[Station] = relationship()


class Delivery(db.Model):
    """One attempt to send a job: what an admin reads when a printer or endpoint misbehaves."""
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_station_id", "station_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("dispatch_jobs.id", ondelete="CASCADE"),
                                        index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_number: Mapped[int] = mapped_column(Integer)
    delivery_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(255))
