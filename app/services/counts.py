"""Live (not deleted) orders per status, per isVoid, per source and per station, kept in step
with every change.

The dashboard shows the status counts on every refresh, and the API answers `$count=true` with
one equality filter on a counted member from one counter row; counting a million orders costs a
scan (a station's, a join as well). A counter row is named `orders.<Status>`,
`orders.isVoid.<true|false>`, `orders.source.<source>` or `orders.station.<station id>`.

Every writer moves its rows with one upsert whose rows come in one fixed order (sorted by name),
after the order-number row and before the change counter, so two writers can queue on these
rows but never deadlock. Only creation and deletion move the isVoid, source and station rows,
and both hold the order-number row first: creation takes it in its very upsert, where it sorts
before every counted row. A ticket update that makes two orders moves two sets of rows one
after the other, which is only safe because no other mover of those rows runs beside it.
Status changes move status rows alone, in one statement.
"""
import functools

from sqlalchemy import Select, String, bindparam, cast, func, literal, select, text

from app.core import status as S
from app.extensions import db
from app.models import Counter, Station

PREFIX = "orders."
ORDER_NUMBER = "order_number"
assert ORDER_NUMBER < PREFIX  # in name order, the order-number row comes before counted ones
SOURCES = ("ticket", "basket")


def status_key(status: str) -> str:
    return PREFIX + status


def void_key(is_void: bool) -> str:
    return f"{PREFIX}isVoid.{'true' if is_void else 'false'}"


def source_key(source: str) -> str:
    return f"{PREFIX}source.{source}"


def station_key(station_id: int) -> str:
    return f"{PREFIX}station.{station_id}"


def _send(connection, delta: dict[str, int], *, answer: bool = True):
    """Add each delta to its row (made when missing) in one statement, rows in name order;
    returns the result of the rows' new values (None when nothing moves, or not `answer`)."""
    names = [name for name in sorted(delta) if delta[name]]
    if not names:
        return None
    params = {}
    for i, name in enumerate(names):
        params[f"name{i}"], params[f"value{i}"] = name, delta[name]
    # On the session's connection: no autoflush first, as the rows need none.
    # PostgreSQL takes the row locks in the order of the VALUES list: the sorted order above.
    result = connection.execute(_upsert(len(names)), params)
    if answer:
        return result
    result.close()
    return None


def _apply(session, delta: dict[str, int]) -> dict[str, int]:
    """As `_send`; returns the new values of the rows."""
    cursor = _send(session.connection(), delta)
    return dict(cursor.fetchall()) if cursor is not None else {}


@functools.cache
def _upsert(size: int):
    """The upsert of `size` rows, as text: both databases read it alike, and SQLAlchemy cannot
    cache a compiled ON CONFLICT statement, so building one cost more than running it."""
    values = ", ".join(f"(:name{i}, :value{i})" for i in range(size))
    return text(
        f"INSERT INTO counters (name, value) VALUES {values} "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value "
        "RETURNING name, value")


def move(session, before: str | None, after: str | None, count: int = 1) -> None:
    """`count` orders left status `before` and entered `after` (None: created or deleted)."""
    delta: dict[str, int] = {}
    if before:
        delta[status_key(before)] = delta.get(status_key(before), 0) - count
    if after:
        delta[status_key(after)] = delta.get(status_key(after), 0) + count
    _apply(session, delta)


def membership(*, status: str, is_void: bool, source: str, station_ids) -> dict[str, int]:
    """The counter rows one live order adds to: its status, isVoid, source and stations."""
    delta = {status_key(status): 1, void_key(is_void): 1, source_key(source): 1}
    for station_id in set(station_ids):
        delta[station_key(station_id)] = 1
    return delta


def add_new_order(connection, delta: dict[str, int]) -> None:
    """One new order entered the counted rows (`delta` is its `membership`), and the next order
    number is reserved for it in the same statement: `reserved_number()` reads it, in the same
    transaction, for the order's row.

    The order-number row is updated in place, so on PostgreSQL concurrent creators queue on its
    row lock and on SQLite on the write lock: no two orders ever get the same number.
    """
    _send(connection, {**delta, ORDER_NUMBER: 1}, answer=False)


def reserved_number():
    """The order number the transaction's last `add_new_order` reserved, as an expression for
    the order's INSERT: the order-number row as this transaction left it."""
    return select(Counter.value).where(Counter.name == ORDER_NUMBER).scalar_subquery()


def add_orders(session, delta: dict[str, int]) -> None:
    """Orders entered (positive) or left (negative) the counted rows; `delta` sums
    `membership` over them. The caller holds the order-number row (see the module doc)."""
    _apply(session, delta)


def lock_membership(session) -> None:
    """Take the order-number row, as creation does, before moving membership rows anywhere
    else than at creation (deletion), so two such movers never run side by side."""
    session.execute(select(Counter.value).where(Counter.name == ORDER_NUMBER)
                    .with_for_update())


def names_total(names) -> Select:
    """The sum of these counter rows (0 when there are none), as a statement to embed."""
    return select(func.coalesce(func.sum(Counter.value), 0)).where(Counter.name.in_(names))


def station_total(station_name) -> Select:
    """Live orders routed to the station of that name (0 for an unknown station), as a
    statement to embed."""
    station_id = select(Station.id).where(Station.name == station_name).scalar_subquery()
    name = literal(PREFIX + "station.") + cast(station_id, String)
    return select(func.coalesce(func.sum(Counter.value), 0)).where(Counter.name == name)


# Built once, run with their values: a count answered from counters must cost about what
# reading a row costs, and building a statement costs more than that.
_VALUES = (select(Counter.name, Counter.value)
           .where(Counter.name.in_(bindparam("names", expanding=True))))
_NAMES_TOTAL = names_total(bindparam("names", expanding=True))
_STATION_TOTAL = station_total(bindparam("station"))
_STATUS_NAMES = [status_key(s) for s in S.ALL]


def live_counts() -> dict[str, int]:
    rows = db.session.connection().execute(_VALUES, {"names": _STATUS_NAMES}).all()
    found = {name.removeprefix(PREFIX): value for name, value in rows}
    return {status: found.get(status, 0) for status in S.ALL}


def counted(names) -> int:
    """The sum of these counter rows (a missing row counts 0)."""
    return db.session.connection().execute(_NAMES_TOTAL, {"names": list(names)}).scalar()


def station_count(station_name: str) -> int:
    """Live orders routed to the station of that name; 0 for an unknown station."""
    return db.session.connection().execute(_STATION_TOTAL, {"station": station_name}).scalar()
