"""Writing a new order's rows with plain INSERT statements, one per table, and handing the order
to the session as if the ORM had written it.

The order, its entries and items are built (and processed) in memory by app.services.
order_factory; the ORM's flush of the same rows cost several times what the statements do. The
keys of entries and items come back from RETURNING, matched by what is unique within the order
(an entry's station, an item's number), so each statement carries all its rows at once. Cells
and history lines are not kept as objects: they load from their rows when first read.
"""
import functools

from sqlalchemy import bindparam, insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import del_attribute

from app import status as S
from app.order_models import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.plain_sql import PlainStatement


def _keys(model, *, with_id: bool = False) -> list[str]:
    return [a.key for a in inspect(model).column_attrs if with_id or a.key != "id"]


_ORDER_KEYS = _keys(Order, with_id=True)
_ENTRY_KEYS, _ITEM_KEYS, _EVENT_KEYS = _keys(OrderEntry), _keys(OrderItem), _keys(OrderEvent)
_CELL_KEYS = ("order_id", "item_id", "entry_id", "status")


def _insert(model, keys) -> PlainStatement:
    return PlainStatement(insert(model.__table__).values({k: bindparam(k) for k in keys}))


_INSERT_ORDER = _insert(Order, _ORDER_KEYS)
_INSERT_CELLS = _insert(OrderCell, _CELL_KEYS)
_INSERT_EVENTS = _insert(OrderEvent, _EVENT_KEYS)


@functools.cache
def _insert_returning(model, size: int, unique: str) -> PlainStatement:
    """`size` rows in one INSERT, answering (unique column, id) per row: one statement for all
    of an order's entries or items, cached per number of rows."""
    keys = _ENTRY_KEYS if model is OrderEntry else _ITEM_KEYS
    table = model.__table__
    return PlainStatement(insert(table).values(
        # Typed here: SQLAlchemy gives the column's type to the first row's parameters only.
        [{k: bindparam(f"{k}_{i}", type_=table.c[k].type) for k in keys} for i in range(size)]
    ).returning(table.c[unique], table.c.id))


def _rows(connection, model, unique: str, objects) -> dict:
    if not objects:
        return {}
    keys = _ENTRY_KEYS if model is OrderEntry else _ITEM_KEYS
    values = {f"{k}_{i}": getattr(obj, k) for i, obj in enumerate(objects) for k in keys}
    return dict(_insert_returning(model, len(objects), unique)
                .execute(connection, values).fetchall())


def _values(obj, keys) -> dict:
    return {key: getattr(obj, key) for key in keys}


def write_new_order(session, order: Order, *, cells: list[tuple[int, int]]) -> None:
    """Insert the transient `order` with its entries, items, history lines and a New cell for
    each (item number, station id) of `cells`; then make the order, its entries and items
    persistent objects of the session, with nothing left to flush."""
    connection = session.connection()
    _INSERT_ORDER.execute(connection, _values(order, _ORDER_KEYS))
    entry_ids = _rows(connection, OrderEntry, "station_id", order.entries)
    item_ids = _rows(connection, OrderItem, "item_no", order.items)
    _INSERT_CELLS.execute_many(connection, [
        {"order_id": order.id, "item_id": item_ids[item_no], "entry_id": entry_ids[sid],
         "status": S.NEW} for item_no, sid in cells])
    _INSERT_EVENTS.execute_many(connection, [{**_values(e, _EVENT_KEYS), "order_id": order.id}
                                             for e in order.history])
    for entry in order.entries:
        entry.id = entry_ids[entry.station_id]
    for item in order.items:
        item.id = item_ids[item.item_no]
    # Kept, the session would insert the lines again; unset, they load from their rows.
    del_attribute(order, "history")
    for obj in (order, *order.entries, *order.items):
        make_transient_to_detached(obj)
    session.add(order)
