"""The event feed for integrators (contract 8): every change the hub makes to an order is an
event with a type, a sequence number, a time, the actor and the order as the API serves it.

Services name the events of a change with `add`, inside the change's transaction. They are
written by app.services.history just before the commit, after everything else the transaction
does, in one statement: their sequence numbers come from the counter row `events`, moved in the
same statement as the change counter. That row is locked until the commit, so writers number
their events one after another in the order they commit: sequences have no gaps, and an event
is never visible before every event with a lower sequence is (a reader paging with `after=N`
misses nothing). An identity column would not do: on PostgreSQL a transaction can take id 8,
commit after the one that took 9, and a reader that saw 9 would skip 8.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import delete, insert, select

from app.core import event_types as T
from app.core import status as S
from app.extensions import db
from app.models import User, utcnow
from app.models.events import DELIVERED, FAILED, Event, WebhookDelivery
from app.services.order_rows import NewOrder

COUNTER = "events"
_PENDING = "pending_events"  # session.info: events named in the open transaction
WRITTEN = "events_written"  # session.info: the transaction wrote events (wakes the sender)
_INSERT = insert(Event.__table__)
DEFAULT_TAKE, MAX_TAKE = 100, 1000


def add(order, event_type: str, *, actor: str | None, at: datetime | None = None) -> None:
    """Name an event of the change the caller's transaction makes to `order` (an Order, or a
    NewOrder being created). It is written, with the order as it stands at the commit, when
    the transaction commits, and not at all if it rolls back."""
    assert event_type in T.ALL, event_type
    session = db.session()
    session.info.setdefault(_PENDING, []).append((order, event_type, actor, at or utcnow()))


def has_pending(session) -> bool:
    return bool(session.info.get(_PENDING))


def forget_pending(session) -> None:
    session.info.pop(_PENDING, None)


def take_pending(session) -> list[dict]:
    """The rows of the events named in the transaction, without their sequence; each order is
    serialised once, as the transaction leaves it. Reads what serialising needs (an order's
    items, entries and cells, when not loaded yet), so call it before taking the counter row."""
    pending = session.info.pop(_PENDING, [])
    documents: dict[int, str] = {}
    rows = []
    for order, event_type, actor, at in pending:
        if id(order) not in documents:
            documents[id(order)] = order_document(order)
        rows.append({"type": event_type, "occurred_at": at, "order_id": order.id,
                     "user_id": order.user_id, "actor": actor,
                     "order_document": documents[id(order)]})
    return rows


def write(connection, rows: list[dict], last_sequence: int) -> None:
    """Insert the rows, numbered up to `last_sequence` (the events counter as this transaction
    moved it), in one statement."""
    first = last_sequence - len(rows) + 1
    connection.execute(_INSERT, [{**row, "sequence": first + i} for i, row in enumerate(rows)])
    db.session().info[WRITTEN] = True


def order_document(order) -> str:
    """The order as GET /api/orders/{id} answers it, as compact JSON text."""
    from app.api.serializers import compact_json, order_json  # the one shape of an order

    return compact_json(order_json(_as_served(order)))


def _as_served(order):
    """An order being created (app.services.order_rows.NewOrder) has no rows loaded: it is
    served from what it was written with, as the ORM would load it; an Order as it is."""
    if not isinstance(order, NewOrder):
        return order
    entries = [SimpleNamespace(id=e.station_id, station=e.station, processed_at=e.processed_at)
               for e in order.entries]
    items = [SimpleNamespace(**{**vars(i), "id": i.item_no}) for i in order.items]
    cells = [SimpleNamespace(item_id=item_no, entry_id=station_id, status=S.NEW)
             for item_no, station_id in order.cell_keys]
    return SimpleNamespace(**order.columns, items=items, entries=entries, cells=cells)


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next: int  # the cursor to continue from: `after` for the next page


def list_events(*, user: User, after: int = 0, take: int = DEFAULT_TAKE,
                types: tuple[str, ...] = ()) -> Page:
    """The events after sequence `after` that the user may see, oldest first, at most `take`;
    only those of `types` when given. Visibility is that of orders
    (app.services.orders.owner_of): a user who sees every order sees every event, anyone else
    those of the orders they created. Events older than EVENT_RETENTION_DAYS are gone."""
    if take == 0:
        return Page([], after)
    statement = (select(Event).where(Event.sequence > after)
                 .order_by(Event.sequence).limit(take))
    from app.services import orders  # orders imports history, which imports this module

    owner = orders.owner_of(user)
    if owner is not None:
        statement = statement.where(Event.user_id == owner)
    if types:
        statement = statement.where(Event.type.in_(types))
    found = list(db.session.scalars(statement))
    return Page(found, found[-1].sequence if found else after)


def get_event(sequence: int) -> Event | None:
    return db.session.get(Event, sequence)


def prune_events(*, now: datetime | None = None, days: float | None = None) -> int:
    """Delete events older than the retention period (EVENT_RETENTION_DAYS) and the finished
    webhook deliveries of that age, in one transaction; returns how many events went."""
    from app.db.transactions import write_transaction

    now = now or utcnow()
    days = current_app.config["EVENT_RETENTION_DAYS"] if days is None else days
    cutoff = now - timedelta(days=days)
    with write_transaction() as session:
        gone = session.execute(delete(Event).where(Event.occurred_at < cutoff)
                               .execution_options(synchronize_session=False)).rowcount
        session.execute(delete(WebhookDelivery).where(
            WebhookDelivery.state.in_((DELIVERED, FAILED)),
            WebhookDelivery.created_at < cutoff).execution_options(synchronize_session=False))
    return gone or 0
