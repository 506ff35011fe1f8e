"""A new order built as plain values, written with one plain INSERT per table, and handed to the
session as an Order object as if the ORM had written it.

app.services.order_factory builds the order (and processes it) as a NewOrder: building and then
writing Order, OrderEntry, OrderItem and OrderEvent objects cost several times what the
statements do. Each table's rows go in one executemany, and none needs an answer from the
one before: the order's number is read from its counter row by the INSERT itself (which
returns it), and cells and jobs find their item and entry by what is unique within the order
(an item's number, an entry's station). The Order object handed back has its columns, number
included; its entries, items, cells and history load from their rows when first read.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, inspect, literal, select
from sqlalchemy.orm import make_transient_to_detached

from app.core import status as S
from app.models import new_guid
from app.models.dispatch import DispatchJob
from app.models.orders import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.services import counts


def _keys(model, *, with_id: bool = False) -> list[str]:
    return [a.key for a in inspect(model).column_attrs if with_id or a.key != "id"]


_ORDER_KEYS = _keys(Order, with_id=True)
_ENTRY_KEYS, _ITEM_KEYS, _EVENT_KEYS = _keys(OrderEntry), _keys(OrderItem), _keys(OrderEvent)
_JOB_KEYS = ("station_id", "kind", "state", "delivery_id", "attempts", "due_at", "requested_by",
             "created_at")


@dataclass
class NewEntry:
    """The order's entry at one station. `station` is anything with the id, name, type and
    isActive of a Station (processing reads them)."""
    station: object
    processed_at: datetime | None = None
    is_open: bool = True
    allergies_acknowledged_at: datetime | None = None
    id: None = None  # not written yet: nothing refers to it by id

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
    prep_seconds: int | None = None
    fired_at: datetime | None = None
    start_at: datetime | None = None
    modifiers: tuple = ()
    allergies: tuple = ()
    allergens: tuple = ()
    order_id: str | None = None  # the order's, given when written


@dataclass
class NewOrder:
    """An order being built: its columns as attributes (those of Order), its entries and items,
    the history lines recorded so far and the dispatch jobs to add once its rows are in."""
    columns: dict
    entries: list[NewEntry]
    items: list[NewItem]
    history: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    # (item number, station id) of each cell, once written: its events serialise it from them.
    cell_keys: list[tuple[int, int]] = field(default_factory=list)

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


def _typed(table, key: str):
    return bindparam(key, type_=table.c[key].type)


def _insert(model, keys, **computed):
    table = model.__table__
    return insert(table).values({**{k: _typed(table, k) for k in keys}, **computed})


_ENTRIES, _ITEMS = OrderEntry.__table__, OrderItem.__table__
_CELLS, _JOBS = OrderCell.__table__, DispatchJob.__table__
# The number comes back with the insert (RETURNING): the ticket answer names it, and reading
# it afterwards would cost a statement per order.
_INSERT_ORDER = _insert(Order, [k for k in _ORDER_KEYS if k != "number"],
                        number=counts.reserved_number()).returning(Order.__table__.c.number)
_INSERT_ENTRIES = _insert(OrderEntry, _ENTRY_KEYS)
_INSERT_ITEMS = _insert(OrderItem, _ITEM_KEYS)
_INSERT_EVENTS = _insert(OrderEvent, _EVENT_KEYS)


def _entry_id():
    return (select(_ENTRIES.c.id)
            .where(_ENTRIES.c.order_id == bindparam("order_id"),
                   _ENTRIES.c.station_id == _typed(_ENTRIES, "station_id"))
            .scalar_subquery())


_INSERT_CELLS = (insert(_CELLS).from_select(
    ["order_id", "item_id", "entry_id", "status"],
    select(bindparam("order_id", type_=_CELLS.c.order_id.type), _ITEMS.c.id, _entry_id(),
           literal(S.NEW, _CELLS.c.status.type))
    .where(_ITEMS.c.order_id == bindparam("order_id"),
           _ITEMS.c.item_no == _typed(_ITEMS, "item_no"))))
_INSERT_JOBS = (insert(_JOBS).values(
    order_id=bindparam("order_id", type_=_JOBS.c.order_id.type), entry_id=_entry_id(),
    **{k: _typed(_JOBS, k) for k in _JOB_KEYS}))


def first_job(entry: NewEntry, *, kind: str, state: str, user_name: str | None,
              now: datetime) -> dict:
    """A dispatch job for an entry of a new order, written with the order's rows."""
    return {"station_id": entry.station_id, "kind": kind, "state": state,
            "delivery_id": new_guid(), "attempts": 0, "due_at": now,
            "requested_by": user_name, "created_at": now}


def write_new_order(session, connection, order: NewOrder, *, cells: list[tuple[int, int]],
                    ) -> Order:
    """Insert `order`, numbered by the reservation the transaction made last (app.services.
    counts.add_new_order), with its entries, items, history lines, jobs and a New cell for each
    (item number, station id) of `cells`; answers it as an Order of the session, nothing left
    to flush. Reads nothing back but the number the insert returns.
    `connection` is the session's, in its transaction."""
    order_id = order.id
    number = connection.execute(_INSERT_ORDER, order.columns).scalar_one()
    connection.execute(_INSERT_ENTRIES, [
        {"order_id": order_id, "station_id": e.station_id, "processed_at": e.processed_at,
         "is_open": e.is_open, "allergies_acknowledged_at": None, "handed_to_id": None}
        for e in order.entries])
    connection.execute(_INSERT_ITEMS, [
        {**{k: getattr(i, k) for k in _ITEM_KEYS}, "order_id": order_id} for i in order.items])
    if cells:
        connection.execute(_INSERT_CELLS, [
            {"order_id": order_id, "item_no": item_no, "station_id": sid}
            for item_no, sid in cells])
    if order.history:
        connection.execute(_INSERT_EVENTS, [{**line, "order_id": order_id}
                                            for line in order.history])
    if order.jobs:
        connection.execute(_INSERT_JOBS, [
            {**job, "order_id": order_id} for job in order.jobs])
    order.number, order.cell_keys = number, cells
    written = Order(**order.columns)
    make_transient_to_detached(written)
    session.add(written)
    return written
