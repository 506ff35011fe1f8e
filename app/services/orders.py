"""Reading orders: visibility, the NData list, single orders, history; and deletion."""
from dataclasses import replace
from functools import lru_cache

from sqlalchemy import String, and_, cast, exists, func, not_, or_, select
from sqlalchemy.orm import selectinload

from app.core import event_types
from app.core import order_types as OT
from app.core import rights as R
from app.core import status as S
from app.core.errors import Forbidden, NotFound
from app.core.query import Condition, Member, Query, QuerySpec, SortKey, condition_clause
from app.db.hints import rare
from app.db.text_search import MIN_INDEXED_LENGTH, IndexedLike, match_phrase
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, User, utcnow
from app.models.orders import ORDER_SEARCH, Order, OrderEntry, OrderItem, status_rank
from app.services import counts, events, history
from app.services.common import check_version

# An IN rather than a correlated EXISTS: both databases can then start from the few
# undispatched entries (ix_order_entries_station_processed) instead of testing every order.
_is_processable = and_(
    Order.status != S.CANCELLED,
    # The active stations as a list the index is sought with, not a join whose order the
    # planner picks from statistics.
    Order.id.in_(select(OrderEntry.order_id).where(
        OrderEntry.station_id.in_(select(Station.id).where(Station.is_active.is_(True))),
        OrderEntry.processed_at.is_(None))),
)

COLUMNS = {
    "id": Order.id, "number": Order.number, "ticketId": Order.ticket_id,
    "ticketName": Order.ticket_name, "deviceName": Order.device_name,
    "userUserName": Order.user_user_name, "isProcessed": Order.is_processed,
    "isProcessable": _is_processable, "status": Order.status, "isVoid": Order.is_void,
    "isRush": Order.is_rush, "orderType": Order.order_type,
    "source": Order.source, "currency": Order.currency, "orderTotal": Order.order_total,
    "createdDateUtc": Order.created_at, "lastSavedDateUtc": Order.last_saved_at,
    "completedDateUtc": Order.completed_at,
}

# Statuses sort by stage (New before Processing ...), not by name; ix_orders_status_rank.
SORT_COLUMNS = {"status": status_rank(Order.status)}
# Statuses of orders still being made: few at any time, where finished ones pile up.
OPEN_STATUSES = (S.NEW, S.PROCESSING, S.READY)
# Sort keys no two orders share: nothing after them can break a tie.
UNIQUE_SORT_KEYS = frozenset({"number", "id"})
# Members whose columns are never null, with every value they can hold: their neq and nin are
# written as an `in` of the other values, which the indexes (and the counters) serve.
ENUM_VALUES = {"status": S.ALL, "source": counts.SOURCES}
BOOL_NOT_NULL = frozenset({"isProcessed", "isProcessable", "isVoid"})
# The text members the full-text index (SQLite) and the trigram index (PostgreSQL) cover.
SEARCHED = {"ticketName": "ticket_name", "deviceName": "device_name",
            "userUserName": "user_user_name"}

ORDER_QUERY = QuerySpec(
    members=(
        Member("id", "uuid"), Member("number", "int", sql_type=Order.number.type),
        Member("ticketId", "uuid"),
        Member("ticketName", "string"), Member("deviceName", "string"),
        Member("userUserName", "string"), Member("isProcessed", "bool"),
        Member("isProcessable", "bool"), Member("status", "enum", choices=S.ALL),
        Member("isVoid", "bool"), Member("isRush", "bool"),
        Member("orderType", "enum", choices=OT.ALL),
        Member("source", "enum", choices=("ticket", "basket")),
        Member("currency", "string"),
        Member("orderTotal", "decimal", sql_type=Order.order_total.type),
        Member("createdDateUtc", "datetime"), Member("lastSavedDateUtc", "datetime"),
        Member("completedDateUtc", "datetime"),
        Member("endpointName", "string", sortable=False),
        Member("projectGuid", "uuid", sortable=False),
    ),
    includes=("history",),
)
DEFAULT_SORT = (SortKey("number", descending=True),)


def visible_orders(user: User):
    """Orders this user may see: every live order with an order right, else their own."""
    return _visible(_owner(user))


def _owner(user: User) -> int | None:
    """Whose orders the user sees: None for everyone's. An actor that is no person and has no
    right to read orders (a ready board's link) owns none, and must not be taken for one who
    sees every order."""
    if R.sees_all_orders(user.rights):
        return None
    if user.id is None:
        raise Forbidden("Reading orders needs a person or a station's screen.")
    return user.id


def _visible(owner: int | None):
    query = select(Order).where(Order.deleted_at.is_(None))
    if owner is not None:
        query = query.where(Order.user_id == owner)
    return query


def _related_clause(condition: Condition, column, link):
    """Filters on a to-many member: `neq`/`nin` mean "no related row matches"."""
    if condition.op in ("neq", "nin") and condition.value is not None:
        positive = Condition(condition.member, "eq" if condition.op == "neq" else "in",
                             condition.value)
        return not_(exists().where(link, condition_clause(positive, column)))
    if condition.op == "eq" and condition.value is None:
        return not_(exists().where(link, column.is_not(None)))
    return exists().where(link, condition_clause(condition, column))


def _normalised(condition: Condition) -> Condition:
    """The same condition in the form the indexes and counters serve: on a never-null column,
    `neq` and `nin` of an enum become `in` of its other values, and `neq` of a bool `eq` of the
    other value."""
    member, op, value = condition.member, condition.op, condition.value
    if value is None or op not in ("neq", "nin"):
        return condition
    if member in ENUM_VALUES:
        excluded = set(value) if op == "nin" else {value}
        return Condition(member, "in", tuple(v for v in ENUM_VALUES[member] if v not in excluded))
    if member in BOOL_NOT_NULL:
        return Condition(member, "eq", not value)
    return condition


def _text_clause(condition: Condition):
    """contains, startswith or endswith on a text member, through its index (app.db.text_search);
    on SQLite the full-text table names the candidates by order number."""
    like = condition_clause(condition, COLUMNS[condition.member])
    text = condition.value.lower()  # as condition_clause lowers it
    if len(text) < MIN_INDEXED_LENGTH:
        return like
    found = ORDER_SEARCH.c[SEARCHED[condition.member]].match(match_phrase(text))
    return IndexedLike(like, Order.number.in_(select(ORDER_SEARCH.c.rowid).where(found)))


def _is_rare(condition: Condition) -> bool:
    """Does the condition match few orders whatever the table holds? Open statuses (orders
    still being made, against every finished one), orders waiting for dispatch, rush orders,
    and the orders of one ticket (app.db.hints)."""
    member, op, value = condition.member, condition.op, condition.value
    if member == "status" and op in ("eq", "in"):
        return set(value if op == "in" else [value]) <= set(OPEN_STATUSES)
    return ((member == "isProcessed" and op == "eq" and value is False)
            or (member == "isRush" and op == "eq" and value is True)
            or (member == "ticketId" and op == "eq" and value is not None))


def _clause(condition: Condition):
    condition = _normalised(condition)
    if condition.member == "isProcessable" and condition.op == "eq" and condition.value is not None:
        # The expression itself rather than `(...) = true`, which no database looks into.
        return _is_processable if condition.value else not_(_is_processable)
    if condition.member in SEARCHED and condition.op in ("contains", "startswith", "endswith"):
        return _text_clause(condition)
    if _is_rare(condition):
        return rare(condition_clause(condition, COLUMNS[condition.member]))
    if condition.member == "endpointName":
        link = and_(OrderEntry.order_id == Order.id, OrderEntry.station_id == Station.id)
        return _related_clause(condition, Station.name, link)
    if condition.member == "projectGuid":
        return _related_clause(condition, OrderItem.project_guid, OrderItem.order_id == Order.id)
    return condition_clause(condition, COLUMNS[condition.member])


def _search_clause(text: str):
    """Free text from the dashboard: an order number, or part of a ticket name."""
    text = text.strip()
    clauses = [_text_clause(Condition("ticketName", "contains", text))]
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if text.isascii() and text.isdigit() and len(text) < 10:
        clauses.append(Order.number == int(text))
    return or_(*clauses)


def _filtered(user: User, query: Query, search: str | None = None):
    statement = _where(_owner(user), query.conditions)
    if search and search.strip():
        statement = statement.where(_search_clause(search))
    return statement


def _where(owner: int | None, conditions: tuple[Condition, ...]):
    statement = _visible(owner)
    for condition in conditions:
        statement = statement.where(_clause(condition))
    return statement


# A client polling a list sends the same query again and again, and building its statement (and
# SQLAlchemy's cache key of it) costs more than the database takes to answer it. Statements are
# immutable, so the API's are cached, by everything they are built from; not those with long
# in/nin lists, so the cache stays small (a few megabytes at most).
STATEMENTS_CACHED = 256
LONGEST_CACHED_LIST = 20


def _cacheable(conditions: tuple[Condition, ...]) -> bool:
    return all(not isinstance(c.value, tuple) or len(c.value) <= LONGEST_CACHED_LIST
               for c in conditions)


def _count_statement(owner: int | None, conditions: tuple[Condition, ...]):
    build = _cached_count_statement if _cacheable(conditions) else _build_count_statement
    return build(owner, conditions)


def _build_count_statement(owner: int | None, conditions: tuple[Condition, ...]):
    return _where(owner, conditions).with_only_columns(func.count()).order_by(None)


_cached_count_statement = lru_cache(maxsize=STATEMENTS_CACHED)(_build_count_statement)


def _keys_statement(dialect: str, owner: int | None, conditions: tuple[Condition, ...],
                    sort: tuple[SortKey, ...], window: tuple[bool, int, int],
                    with_total: bool = False):
    build = _cached_keys_statement if _cacheable(conditions) else _build_keys_statement
    return build(dialect, owner, conditions, sort, window, with_total)


def _build_keys_statement(dialect: str, owner: int | None, conditions: tuple[Condition, ...],
                          sort: tuple[SortKey, ...], window: tuple[bool, int, int],
                          with_total: bool = False):
    reverse, offset, limit = window
    columns = [Order.id, Order.version,
               # The time as the database writes it: compared, never read, so never parsed.
               cast(Order.last_saved_at, String).label("saved"),
               history.stations_version().label("stations")]
    if with_total:
        columns.append(_total(owner, conditions).label("total"))
    return (_where(owner, conditions).with_only_columns(*columns)
            .order_by(*_order_by(sort, reverse=reverse)).offset(offset).limit(limit))


_cached_keys_statement = lru_cache(maxsize=STATEMENTS_CACHED)(_build_keys_statement)


def with_details(statement, include_history: bool = False):
    options = [selectinload(Order.items), selectinload(Order.entries),
               selectinload(Order.cells)]
    if include_history:
        options.append(selectinload(Order.history))
    return statement.options(*options)


def _counted(user: User, query: Query, search: str | None) -> bool:
    """True when the maintained counters answer the count: every live order, no filter."""
    return R.sees_all_orders(user.rights) and not query.conditions and not (search or "").strip()


# Members with a few matching orders (waiting for dispatch), against the many of the other
# value: the many are counted as every live order less the few.
FEW_WHEN = {"isProcessed": False, "isProcessable": True, "isRush": True}


def _counted_rows(conditions: tuple[Condition, ...]) -> tuple[str, object] | None:
    """Which counter rows (app.services.counts) count every live order matching `conditions`:
    ("names", counter names to sum), ("station", a station name) or ("all but", a condition
    whose few orders are taken from every live order's count); None unless the conditions are
    at most one equality (or its negation) on a counted member (status, isVoid, source,
    endpointName), or the side with many orders of isProcessed or isProcessable."""
    if not conditions:
        return "names", [counts.status_key(s) for s in S.ALL]
    if len(conditions) > 1 or conditions[0].value is None:
        return None
    condition = _normalised(conditions[0])
    member, op, value = condition.member, condition.op, condition.value
    if member in FEW_WHEN and op == "eq" and value != FEW_WHEN[member]:
        return "all but", Condition(member, "eq", FEW_WHEN[member])
    values = sorted(set(value)) if op == "in" else [value]
    if member == "status" and op in ("eq", "in"):
        return "names", [counts.status_key(v) for v in values]
    if member == "source" and op in ("eq", "in"):
        return "names", [counts.source_key(v) for v in values]
    if member == "isVoid" and op in ("eq", "neq"):
        return "names", [counts.void_key(value == (op == "eq"))]
    if member == "endpointName" and op == "eq":
        # One entry per order and station, so the station's row counts each order once.
        return "station", value
    return None


def count_orders(*, user: User, query: Query, search: str | None = None) -> int:
    """How many visible orders match; from the maintained counters when every live order is
    visible and the query is at most one equality on a counted member (_counted_rows)."""
    searching = bool(search and search.strip())
    owner = _owner(user)
    rows = None if owner is not None or searching else _counted_rows(query.conditions)
    if rows is not None and rows[0] == "all but":
        return db.session.scalar(select(_total(owner, query.conditions)))
    if rows is not None:
        kind, value = rows
        return counts.counted(value) if kind == "names" else counts.station_count(value)
    if searching:
        statement = _filtered(user, query, search).with_only_columns(func.count()).order_by(None)
    else:
        statement = _count_statement(owner, query.conditions)
    return db.session.scalar(statement)


def _total(owner: int | None, conditions: tuple[Condition, ...]):
    """count_orders as a scalar subquery, to come with a page in the same statement."""
    rows = None if owner is not None else _counted_rows(conditions)
    if rows is None:
        return _build_count_statement(owner, conditions).scalar_subquery()
    kind, value = rows
    if kind == "all but":
        every = counts.names_total([counts.status_key(s) for s in S.ALL]).scalar_subquery()
        return every - _build_count_statement(owner, (value,)).scalar_subquery()
    statement = counts.names_total(value) if kind == "names" else counts.station_total(value)
    return statement.scalar_subquery()


def count_by_status(*, user: User, query: Query, search: str | None = None) -> dict[str, int]:
    """How many visible orders match the query in each status (the query's own status filter
    left out, so every count stays visible while one status is picked)."""
    others = replace(query, conditions=tuple(c for c in query.conditions
                                             if c.member != "status"))
    if _counted(user, others, search):
        return counts.live_counts()
    statement = (_filtered(user, others, search)
                 .with_only_columns(Order.status, func.count()).group_by(Order.status)
                 .order_by(None))
    found = dict(db.session.execute(statement).all())
    return {status: found.get(status, 0) for status in S.ALL}


def _order_by(sort: tuple[SortKey, ...], *, reverse: bool = False) -> list:
    """The sort (the default when empty), then the id in the direction of the sort's last key,
    so paging is stable and an index on (column, id) serves the sort either way (a sort ending
    with a unique key has no ties to break); `reverse` walks it backwards."""
    order_by = []
    keys = sort or DEFAULT_SORT
    for key in keys:
        column = SORT_COLUMNS.get(key.member, COLUMNS[key.member])
        descending = key.descending != reverse
        clause = column.desc() if descending else column.asc()
        # Null sorts lowest on both databases (PostgreSQL's default is highest). Only on
        # nullable columns, so `number desc` can still walk its index.
        if getattr(getattr(column, "expression", column), "nullable", False):
            clause = clause.nulls_last() if descending else clause.nulls_first()
        order_by.append(clause)
    if keys[-1].member not in UNIQUE_SORT_KEYS:
        order_by.append(Order.id.desc() if keys[-1].descending != reverse else Order.id.asc())
    return order_by


def _window(query: Query, total: int) -> tuple[bool, int, int] | None:
    """(reversed, offset, limit) of the page `query` asks for among `total` matching rows; None
    when it is empty.

    An offset is walked row by row, so a page in the second half is read from the other end:
    the sort reversed, skipping what lies after the page (the caller turns it round again).
    Both ends see the same rows because `total` counts exactly what the query filters.
    """
    remaining = total - query.skip
    if query.take == 0 or remaining <= 0:
        return None
    if query.skip and 2 * query.skip > total - query.take:
        take = min(query.take, remaining)
        return True, remaining - take, take
    return False, query.skip, query.take


def list_orders(*, user: User, query: Query, search: str | None = None
                ) -> tuple[list[Order], int]:
    """The page of visible orders the query asks for, and how many match in all."""
    total = count_orders(user=user, query=query, search=search)
    window = _window(query, total)
    if window is None:
        return [], total
    reverse, offset, limit = window
    statement = (with_details(_filtered(user, query, search), "history" in query.include)
                 .order_by(*_order_by(query.sort, reverse=reverse)).offset(offset).limit(limit))
    found = list(db.session.scalars(statement))
    return (found[::-1] if reverse else found), total


def list_order_keys(*, user: User, query: Query) -> tuple[list, int]:
    """The page list_orders would answer as rows of keys, and the total. No order is loaded.

    A row starts with the order's id, then what tells apart the states of its answer: its
    version and last save (every change bumps the one and sets the other; the time also tells
    apart orders rewritten in place, as seeders and tests do) and the stations' version
    (app.services.history.stations_version)."""
    owner, dialect = _owner(user), db.engine.dialect.name
    connection = db.session.connection()
    if query.skip == 0 and query.take:
        # A first page is read from the start whatever the total, so the total comes with it:
        # one statement, one snapshot. No row means nothing matches.
        rows = connection.execute(_keys_statement(
            dialect, owner, query.conditions, query.sort, (False, 0, query.take),
            with_total=True)).all()
        return rows, (rows[0][4] if rows else 0)
    total = count_orders(user=user, query=query)
    window = _window(query, total)
    if window is None:
        return [], total
    rows = connection.execute(_keys_statement(dialect, owner, query.conditions, query.sort,
                                              window)).all()
    return (rows[::-1] if window[0] else rows), total


def owner_of(user: User) -> int | None:
    """Whose orders the user sees in lists: None for everyone's, else the user's own id."""
    return _owner(user)


def load_orders(order_ids: list[str]) -> dict[str, Order]:
    """These orders with their items, entries and cells, read afresh (whatever the session holds
    from earlier), by id."""
    statement = (with_details(select(Order).where(Order.id.in_(order_ids)))
                 .execution_options(populate_existing=True))
    return {order.id: order for order in db.session.scalars(statement)}


def get_order(*, user: User, order_id: str, include_history: bool = False) -> Order:
    """A visible order; NotFound for unknown, deleted or other people's orders alike."""
    statement = with_details(visible_orders(user).where(Order.id == str(order_id)),
                             include_history)
    order = db.session.scalar(statement)
    if order is None:
        raise NotFound("No such order.")
    return order


def visible_numbers(*, user: User, order_ids: list[str]) -> dict[str, int]:
    """The numbers of those of `order_ids` the user sees, by id, in one statement; the others
    (unknown, deleted, another's) are left out."""
    statement = (visible_orders(user).where(Order.id.in_([str(i) for i in order_ids]))
                 .with_only_columns(Order.id, Order.number).order_by(Order.number))
    return dict(db.session.execute(statement).all())


def visible_order_version(*, user: User, order_id: str) -> int:
    """The version of a visible order, without loading it; NotFound as get_order."""
    version = db.session.scalar(visible_orders(user).where(Order.id == str(order_id))
                                .with_only_columns(Order.version))
    if version is None:
        raise NotFound("No such order.")
    return version


def lock_visible_order(session, *, user: User, order_id: str) -> Order:
    """The visible order, locked for this write transaction, with its cells loaded."""
    # FOR NO KEY UPDATE, as every write here changes no key: foreign key checks of rows that
    # reference the order (its history) need not wait for it.
    order = session.scalar(visible_orders(user).where(Order.id == str(order_id))
                           .with_for_update(key_share=True))
    if order is None:
        raise NotFound("No such order.")
    return order


def get_history(*, user: User, order_id: str):
    return get_order(user=user, order_id=order_id, include_history=True).history


def delete_order(*, user: User, order_id: str, version: int | None = None) -> None:
    """Remove the order from every list, screen and read; its history stays."""
    if not R.has_right(user.rights, R.ORDER_DELETE):
        raise Forbidden("Deleting orders needs the orderDelete right.")
    with write_transaction() as session:
        order = lock_visible_order(session, user=user, order_id=order_id)
        check_version(order.version, version)
        counts.lock_membership(session)
        now = utcnow()
        order.deleted_at, order.last_saved_at = now, now
        counts.add_orders(session, {name: -1 for name in counts.membership(
            status=order.status, is_void=order.is_void, source=order.source,
            station_ids=[entry.station_id for entry in order.entries])})
        order.version += 1
        history.record(order, "deleted", user_name=user.user_name, at=now)
        # The event carries the order as it was last served, so a receiver still knows what went.
        events.add(order, event_types.ORDER_DELETED, actor=user.user_name, at=now)
