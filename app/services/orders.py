"""Reading orders: visibility, the NData list, single orders, history; and deletion."""
from dataclasses import replace

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import selectinload

from app import rights as R
from app import status as S
from app.database import write_transaction
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Station, User, utcnow
from app.order_models import Order, OrderEntry, OrderItem
from app.query import Condition, Member, Query, QuerySpec, SortKey, condition_clause
from app.services import counts, history
from app.services.common import check_version

_is_processable = and_(
    Order.status != S.CANCELLED,
    exists().where(OrderEntry.order_id == Order.id, OrderEntry.processed_at.is_(None),
                   OrderEntry.station_id == Station.id, Station.is_active.is_(True)),
)

COLUMNS = {
    "id": Order.id, "number": Order.number, "ticketId": Order.ticket_id,
    "ticketName": Order.ticket_name, "deviceName": Order.device_name,
    "userUserName": Order.user_user_name, "isProcessed": Order.is_processed,
    "isProcessable": _is_processable, "status": Order.status, "isVoid": Order.is_void,
    "source": Order.source, "currency": Order.currency, "orderTotal": Order.order_total,
    "createdDateUtc": Order.created_at, "lastSavedDateUtc": Order.last_saved_at,
    "completedDateUtc": Order.completed_at,
}

# Statuses sort by stage (New before Processing ...), not by name.
SORT_COLUMNS = {"status": case({name: rank for rank, name in enumerate(S.ALL)},
                               value=Order.status)}

ORDER_QUERY = QuerySpec(
    members=(
        Member("id", "uuid"), Member("number", "int"), Member("ticketId", "uuid"),
        Member("ticketName", "string"), Member("deviceName", "string"),
        Member("userUserName", "string"), Member("isProcessed", "bool"),
        Member("isProcessable", "bool"), Member("status", "enum", choices=S.ALL),
        Member("isVoid", "bool"), Member("source", "enum", choices=("ticket", "basket")),
        Member("currency", "string"), Member("orderTotal", "decimal"),
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
    query = select(Order).where(Order.deleted_at.is_(None))
    if not R.sees_all_orders(user.rights):
        query = query.where(Order.user_id == user.id)
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


def _clause(condition: Condition):
    if condition.member == "endpointName":
        link = and_(OrderEntry.order_id == Order.id, OrderEntry.station_id == Station.id)
        return _related_clause(condition, Station.name, link)
    if condition.member == "projectGuid":
        return _related_clause(condition, OrderItem.project_guid, OrderItem.order_id == Order.id)
    return condition_clause(condition, COLUMNS[condition.member])


def _search_clause(text: str):
    """Free text from the dashboard: an order number, or part of a ticket name."""
    text = text.strip()
    clauses = [func.lower(Order.ticket_name).contains(text.lower(), autoescape=True)]
    if text.isdigit() and len(text) < 10:
        clauses.append(Order.number == int(text))
    return or_(*clauses)


def _filtered(user: User, query: Query, search: str | None = None):
    statement = visible_orders(user)
    for condition in query.conditions:
        statement = statement.where(_clause(condition))
    if search and search.strip():
        statement = statement.where(_search_clause(search))
    return statement


def with_details(statement, include_history: bool = False):
    options = [selectinload(Order.items), selectinload(Order.entries),
               selectinload(Order.cells)]
    if include_history:
        options.append(selectinload(Order.history))
    return statement.options(*options)


def _counted(user: User, query: Query, search: str | None) -> bool:
    """True when the maintained counters answer the count: every live order, no filter."""
    return R.sees_all_orders(user.rights) and not query.conditions and not (search or "").strip()


def count_orders(*, user: User, query: Query, search: str | None = None) -> int:
    """How many visible orders match; from the maintained counters when nothing is filtered,
    or only the status is."""
    status_only = [c for c in query.conditions if c.member == "status"]
    rest = replace(query, conditions=tuple(c for c in query.conditions
                                           if c.member != "status"))
    if _counted(user, rest, search) and len(status_only) <= 1 and all(
            c.op in ("eq", "in") and c.value is not None for c in status_only):
        live = counts.live_counts()
        wanted = status_only[0].value if status_only else S.ALL
        wanted = (wanted,) if isinstance(wanted, str) else wanted
        return sum(live[s] for s in set(wanted))
    statement = _filtered(user, query, search).with_only_columns(func.count()).order_by(None)
    return db.session.scalar(statement)


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


def list_orders(*, user: User, query: Query, search: str | None = None
                ) -> tuple[list[Order], int]:
    """The page of visible orders the query asks for, and how many match in all."""
    total = count_orders(user=user, query=query, search=search)
    order_by = []
    for key in query.sort or DEFAULT_SORT:
        column = SORT_COLUMNS.get(key.member, COLUMNS[key.member])
        clause = column.desc() if key.descending else column.asc()
        # Null sorts lowest on both databases (PostgreSQL's default is highest). Only on
        # nullable columns, so `number desc` can still walk its index.
        if getattr(getattr(column, "expression", column), "nullable", False):
            clause = clause.nulls_last() if key.descending else clause.nulls_first()
        order_by.append(clause)
    statement = (_filtered(user, query, search).order_by(*order_by, Order.id.asc())
                 .offset(query.skip).limit(query.take))
    statement = with_details(statement, "history" in query.include)
    return list(db.session.scalars(statement)), total


def get_order(*, user: User, order_id: str, include_history: bool = False) -> Order:
    """A visible order; NotFound for unknown, deleted or other people's orders alike."""
    statement = with_details(visible_orders(user).where(Order.id == str(order_id)),
                             include_history)
    order = db.session.scalar(statement)
    if order is None:
        raise NotFound("No such order.")
    return order


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
        now = utcnow()
        order.deleted_at, order.last_saved_at = now, now
        counts.move(session, order.status, None)
        order.version += 1
        history.record(order, "deleted", user_name=user.user_name, at=now)
