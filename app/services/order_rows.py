"""Writing a new order's rows with plain INSERT statements, one per table, and handing the order
to the session as if the ORM had written it.

The order, its entries and items are built (and processed) in memory by app.services.
order_factory; the ORM's flush of the same rows cost several times what the statements do. The
keys of entries and items come back from RETURNING, matched by what is unique within the order
(an entry's station, an item's number), so each statement carries all its rows at once. Cells
and history lines are not kept as objects: they load from their rows when first read.
"""
from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import del_attribute

from app import status as S
from app.order_models import Order, OrderCell, OrderEntry, OrderEvent, OrderItem


def _keys(model, *, with_id: bool = False) -> list[str]:
    return [a.key for a in inspect(model).column_attrs if with_id or a.key != "id"]


_ORDER_KEYS = _keys(Order, with_id=True)
_ENTRY_KEYS, _ITEM_KEYS, _EVENT_KEYS = _keys(OrderEntry), _keys(OrderItem), _keys(OrderEvent)
_ENTRIES, _ITEMS = OrderEntry.__table__.c, OrderItem.__table__.c
_INSERT_ORDER = insert(Order.__table__)
_INSERT_ENTRIES = insert(OrderEntry.__table__).returning(_ENTRIES.station_id, _ENTRIES.id)
_INSERT_ITEMS = insert(OrderItem.__table__).returning(_ITEMS.item_no, _ITEMS.id)
_INSERT_CELLS = insert(OrderCell.__table__)
_INSERT_EVENTS = insert(OrderEvent.__table__)


def _values(obj, keys: list[str], **more) -> dict:
    return {key: getattr(obj, key) for key in keys} | more


def write_new_order(session, order: Order, *, cells: list[tuple[int, int]]) -> None:
    """Insert the transient `order` with its entries, items, history lines and a New cell for
    each (item number, station id) of `cells`; then make the order, its entries and items
    persistent objects of the session, with nothing left to flush."""
    connection = session.connection()
    connection.execute(_INSERT_ORDER, _values(order, _ORDER_KEYS))
    entry_ids = dict(connection.execute(
        _INSERT_ENTRIES, [_values(e, _ENTRY_KEYS) for e in order.entries]).all())
    item_ids = dict(connection.execute(
        _INSERT_ITEMS, [_values(i, _ITEM_KEYS) for i in order.items]).all())
    connection.execute(_INSERT_CELLS, [
        {"order_id": order.id, "item_id": item_ids[item_no], "entry_id": entry_ids[sid],
         "status": S.NEW} for item_no, sid in cells])
    connection.execute(_INSERT_EVENTS, [_values(e, _EVENT_KEYS, order_id=order.id)
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
