"""A new order built as plain values, written with one plain INSERT per table, and handed to the
session as an Order object as if the ORM had written it.

app.services.order_factory builds the order (and processes it) as a NewOrder: building and then
writing Order, OrderEntry, OrderItem and OrderEvent objects cost several times what the
statements do. The statements run on the driver's cursor (app.plain_sql). The keys of entries
and items come back from RETURNING, matched by what is unique within the order (an entry's
station, an item's number), so each statement carries all its rows at once. The Order object
handed back has its columns only: its entries, items, cells and history load from their rows
when first read.
"""
import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, inspect
from sqlalchemy.orm import make_transient_to_detached

from app import status as S
from app.dispatch_models import DispatchJob
from app.models import new_guid
from app.order_models import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.plain_sql import PlainStatement


def _keys(model, *, with_id: bool = False) -> list[str]:
    return [a.key for a in inspect(model).column_attrs if with_id or a.key != "id"]


_ORDER_KEYS = _keys(Order, with_id=True)
_ENTRY_KEYS, _ITEM_KEYS, _EVENT_KEYS = _keys(OrderEntry), _keys(OrderItem), _keys(OrderEvent)
_CELL_KEYS = ("order_id", "item_id", "entry_id", "status")
_JOB_KEYS = ("order_id", "entry_id", "station_id", "kind", "state", "delivery_id", "attempts",
             "due_at", "requested_by", "created_at")


@dataclass
class NewEntry:
    """The order's entry at one station. `station` is anything with the id, name, type and
    isActive of a Station (processing reads them)."""
    station: object
    processed_at: datetime | None = None
    is_open: bool = True
    order_id: str | None = None
    id: int | None = None  # known once written

    @property
    def station_id(self) -> int:
        return self.station.id


@dataclass
class NewItem:
    item_no: int
    product_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    note: str | None = None
    course: int | None = None
    project_guid: str | None = None
    order_id: str | None = None


@dataclass
class NewOrder:
    """An order being built: its columns as attributes (those of Order), its entries and items,
    the history lines recorded so far and the dispatch jobs to add once its rows are in."""
    columns: dict
    entries: list[NewEntry]
    items: list[NewItem]
    history: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)

    def __getattr__(self, name):
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        if name in _ORDER_KEYS:
            self.columns[name] = value
        else:
            super().__setattr__(name, value)


def _insert(model, keys) -> PlainStatement:
    table = model.__table__
    return PlainStatement(insert(table).values(
        {k: bindparam(k, type_=table.c[k].type) for k in keys}))


_INSERT_ORDER = _insert(Order, _ORDER_KEYS)
_INSERT_CELLS = _insert(OrderCell, _CELL_KEYS)
_INSERT_EVENTS = _insert(OrderEvent, _EVENT_KEYS)
_INSERT_JOBS = _insert(DispatchJob, _JOB_KEYS)


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


def first_job(entry: NewEntry, *, kind: str, state: str, user_name: str | None,
              now: datetime) -> dict:
    """A dispatch job for an entry of a new order, written with the order's rows."""
    return {"entry": entry, "station_id": entry.station_id, "kind": kind, "state": state,
            "delivery_id": new_guid(), "attempts": 0, "due_at": now,
            "requested_by": user_name, "created_at": now}


def write_new_order(session, order: NewOrder, *, cells: list[tuple[int, int]]) -> Order:
    """Insert `order` with its entries, items, history lines, jobs and a New cell for each
    (item number, station id) of `cells`; answers it as an Order of the session, its columns
    loaded and nothing left to flush."""
    connection = session.connection()
    order_id = order.id
    for entry in order.entries:
        entry.order_id = order_id
    for item in order.items:
        item.order_id = order_id
    _INSERT_ORDER.execute(connection, order.columns)
    entry_ids = _rows(connection, OrderEntry, "station_id", order.entries)
    item_ids = _rows(connection, OrderItem, "item_no", order.items)
    _INSERT_CELLS.execute_many(connection, [
        {"order_id": order_id, "item_id": item_ids[item_no], "entry_id": entry_ids[sid],
         "status": S.NEW} for item_no, sid in cells])
    _INSERT_EVENTS.execute_many(connection, [{**line, "order_id": order_id}
                                             for line in order.history])
    for entry in order.entries:
        entry.id = entry_ids[entry.station_id]
    if order.jobs:
        _INSERT_JOBS.execute_many(connection, [
            {**{k: v for k, v in job.items() if k != "entry"}, "order_id": order_id,
             "entry_id": job["entry"].id} for job in order.jobs])
    written = Order(**order.columns)
    make_transient_to_detached(written)
    session.add(written)
    return written
