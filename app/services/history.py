"""Recording an order's history (contract 5.4). Called inside the caller's transaction.

Every change to an order writes a history line, so this is also where the change counter moves:
screens poll that one row to learn whether anything changed (contract 5.2). It lives in the
database, so a change made by any server process is seen by every other. The counter holds the
number of history lines ever written: a transaction adds its lines to it with one UPDATE, run
last before its commit, so the hot row every writer shares is locked as briefly as possible and
always after any other row (no deadlock with the counters of app.services.counts).
"""
from sqlalchemy import bindparam, event, inspect, select, text, update

from app.extensions import db
from app.models import Counter, utcnow
from app.models.orders import Order, OrderEvent
from app.services import events
from app.services.order_rows import NewOrder

CHANGES = "changes"
_LINES = "history_lines"  # session.info: lines recorded in the open transaction
_BUMP = (update(Counter.__table__).where(Counter.__table__.c.name == CHANGES)
         .values(value=Counter.__table__.c.value + bindparam("lines")))


def record(order: Order, action: str, *, user_name: str | None, level: str | None = None,
           target: str | None = None, from_status: str | None = None,
           to_status: str | None = None, detail: str | None = None, at=None
           ) -> OrderEvent | None:
    """Add a line to the order's history; the change counter counts it when the transaction
    commits, and not at all if it rolls back."""
    if isinstance(order, NewOrder):  # being built: its lines are written with its rows
        order.history.append({"action": action, "level": level, "target": target,
                              "from_status": from_status, "to_status": to_status,
                              "user_name": user_name, "detail": detail, "at": at or utcnow()})
        session = db.session()
        session.info[_LINES] = session.info.get(_LINES, 0) + 1
        return None
    event = OrderEvent(action=action, level=level, target=target, from_status=from_status,
                       to_status=to_status, user_name=user_name, detail=detail,
                       at=at or utcnow())
    state = inspect(order)
    session = state.session or db.session()
    if state.persistent and "history" in state.unloaded:
        # Appending would load every earlier line of the order first; they are not needed.
        event.order_id = order.id
        session.add(event)
    else:
        order.history.append(event)
    session.info[_LINES] = session.info.get(_LINES, 0) + 1
    return event


@event.listens_for(db.session, "before_commit")
def _count_lines(session) -> None:
    if session.info.get(_LINES) or events.has_pending(session):
        session.flush()  # the rows first: the shared counter row is the last lock taken
        count_lines_now(session, session.connection())


def count_lines_now(session, connection) -> None:
    """Move the change counter by the lines recorded so far, and write the events named so far
    (app.services.events), now rather than at commit. `connection` is the session's, in its
    transaction.

    The events' orders are serialised first (which may read), then the change counter and the
    events counter move in one statement, and the events go in numbered by it: the two hot
    rows are taken last and held only for the insert. Every transaction that writes events
    takes both rows in that one statement, so no two wait on each other crosswise."""
    rows = events.take_pending(session)
    lines = session.info.pop(_LINES, 0)
    if rows:
        moved = dict(connection.execute(_BUMP_BOTH, {"lines": lines, "events": len(rows)}).all())
        events.write(connection, rows, moved[events.COUNTER])
    elif lines:
        move_change_counter(connection, lines)


# Both counters in one statement, the change counter's row first (PostgreSQL locks them in the
# order of the VALUES list); the events row is made by the first event if a database lacks it.
_BUMP_BOTH = text(
    f"INSERT INTO counters (name, value) VALUES ('{CHANGES}', :lines), "
    f"('{events.COUNTER}', :events) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value "
    "RETURNING name, value")


def move_change_counter(connection, by: int = 1) -> None:
    """Add `by` to the change counter, in the caller's transaction: every screen, list and
    ETag then knows something changed. The one writer of the counter."""
    connection.execute(_BUMP, {"lines": by})


@event.listens_for(db.session, "after_transaction_end")
def _forget_lines(session, transaction) -> None:
    if transaction.parent is None:  # rolled back or closed: its lines were never written
        session.info.pop(_LINES, None)
        events.forget_pending(session)


# The counter every change to any station moves (app.services.stations): order answers show
# their stations' names and isActive, so what describes an answer's state carries it too.
STATIONS_VERSION = "stations"


def versions() -> tuple[int, int]:
    """The change counter and the stations' version, in one statement: together they tell
    whether any order's answer, and so any list or screen, may differ from an earlier one.
    The one reader of both counters."""
    rows = dict(db.session.execute(
        select(Counter.name, Counter.value)
        .where(Counter.name.in_((CHANGES, STATIONS_VERSION)))).all())
    return rows.get(CHANGES, 0), rows.get(STATIONS_VERSION, 0)


def change_counter() -> int:
    """The number of order changes so far; a screen drawn at another number must refresh."""
    return versions()[0]


def stations_version():
    """The stations' version as a column to select (computed once per statement)."""
    return (select(Counter.value).where(Counter.name == STATIONS_VERSION)
            .scalar_subquery())
