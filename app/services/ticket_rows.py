"""A ticket read and written as plain rows with SQLAlchemy Core.

An update reads the ticket with its items, user and device in one statement, before its write
transaction, and then updates it conditionally: one UPDATE that sets the new name, version and
save time only where the version is still the one read and the ticket still open. An update that
finds no row means another writer came first, and the update starts again from a fresh read
(app.services.tickets). So the write transaction, and on SQLite the database's one write lock,
holds only the writes; before, the ticket was locked, then loaded as ORM objects inside it. The
products and stations an update routes to are read here too, as plain rows.
"""
import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, delete, false, insert, select, update

from app.models import Device, Product, Station, Ticket, TicketItem, User, product_stations

_FIELDS = ("product_code", "quantity", "note", "course", "modifiers", "allergies")
_TICKETS, _ITEMS = Ticket.__table__, TicketItem.__table__


@dataclass
class Line:
    """An item of a ticket as stored: its row id (None for one just added), its place and its
    values."""
    id: int | None
    position: int
    product_code: str
    quantity: Decimal
    note: str | None
    course: int | None
    modifiers: tuple = ()  # canonical (app.core.modifiers)
    allergies: tuple = ()  # the guest's allergen codes


@dataclass
class TicketRow:
    """A ticket as read or as written; app.api.serializers.ticket_json shows it."""
    id: str
    name: str
    version: int
    is_closed: bool
    created_at: datetime
    last_saved_at: datetime
    device_name: str | None
    user_user_name: str
    user_name: str
    is_rush: bool = False
    order_type: str = "dineIn"
    items: list[Line] = field(default_factory=list)


_READ = (
    select(Ticket.id, Ticket.name, Ticket.version, Ticket.is_closed, Ticket.created_at,
           Ticket.last_saved_at, Device.name, User.user_name, User.name, Ticket.is_rush,
           Ticket.order_type, TicketItem.id,
           TicketItem.position, TicketItem.product_code, TicketItem.quantity, TicketItem.note,
           TicketItem.course, TicketItem.modifiers, TicketItem.allergies)
    .join(User, User.id == Ticket.user_id)
    .outerjoin(Device, Device.id == Ticket.device_id)
    .outerjoin(TicketItem, TicketItem.ticket_id == Ticket.id)
    .where(Ticket.id == bindparam("ticket_id"))
    .order_by(TicketItem.position))
_UPDATE_IF_UNCHANGED = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"), _TICKETS.c.version == bindparam("read"),
           _TICKETS.c.is_closed == false())
    .values(name=bindparam("new_name"), version=bindparam("new_version"),
            last_saved_at=bindparam("saved_at"), is_rush=bindparam("new_is_rush"),
            order_type=bindparam("new_order_type")))
_UPDATE_ITEM = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
    .values({f: bindparam("new_" + f, type_=_ITEMS.c[f].type) for f in _FIELDS}))
# Items past the new last position: the surplus, whatever their number.
_DELETE_ITEMS = (delete(_ITEMS).where(_ITEMS.c.ticket_id == bindparam("ticket_id"),
                                                    _ITEMS.c.position > bindparam("last")))
_INSERT_ITEMS = (insert(_ITEMS).values(
    {k: bindparam(k, type_=_ITEMS.c[k].type) for k in ("ticket_id", "position", *_FIELDS)}))


@dataclass(frozen=True)
class StationRow:
    """What routing and processing read of a station; `settings` says which order types it
    takes (app.core.order_types)."""
    id: int
    name: str
    type: str
    is_active: bool
    # Read for its orderTypes and courseFiring; not part of the row's identity.
    settings: dict | None = field(default=None, compare=False, hash=False)


@dataclass
class ProductRow:
    code: str
    name: str
    price: Decimal
    course: int | None
    prep_seconds: int | None = None
    allergens: tuple = ()
    stations: list[StationRow] = field(default_factory=list)  # by name, as Product.stations


@functools.cache
def _products(size: int):
    """The products of `size` codes with their stations, one row per (product, station)."""
    return (
        select(Product.code, Product.name, Product.price, Product.course, Product.prep_seconds,
               Product.allergens, Station.id, Station.name, Station.type, Station.is_active,
               Station.settings)
        .outerjoin(product_stations, product_stations.c.product_id == Product.id)
        .outerjoin(Station, Station.id == product_stations.c.station_id)
        .where(Product.code.in_([bindparam(f"code{i}") for i in range(size)]))
        .order_by(Product.code, Station.name))


def _product_rows(connection, codes: list[str]) -> list:
    return connection.execute(_products(len(codes)),
                              {f"code{i}": code for i, code in enumerate(codes)}).all()


def _products_of(rows) -> dict[str, ProductRow]:
    found: dict[str, ProductRow] = {}
    for code, name, price, course, prep_seconds, allergens, *station in rows:
        product = found.setdefault(code, ProductRow(code, name, price, course, prep_seconds,
                                                    allergens))
        if station[0] is not None:
            product.stations.append(StationRow(*station))
    return found


def read_products(connection, codes) -> dict[str, ProductRow]:
    """The products of these codes, by code; unknown codes are left out."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    return _products_of(_product_rows(connection, codes))


@functools.cache
def _stations(size: int):
    return (select(Station.id, Station.name, Station.type, Station.is_active, Station.settings)
            .where(Station.id.in_([bindparam(f"id{i}") for i in range(size)])))


def read_stations(connection, ids) -> dict[int, StationRow]:
    """The stations of these ids, by id; unknown ids are left out."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {row[0]: StationRow(*row) for row in
            connection.execute(_stations(len(ids)),
                               {f"id{i}": sid for i, sid in enumerate(ids)})}


def _ticket_of(rows) -> TicketRow | None:
    if not rows:
        return None
    first = rows[0]
    return TicketRow(*first[:11], items=[Line(*row[11:]) for row in rows if row[11] is not None])


def read_ticket(connection, ticket_id: str) -> TicketRow | None:
    return _ticket_of(connection.execute(_READ, {"ticket_id": str(ticket_id)}).all())


class Missed(Exception):
    """The conditional update of a ticket found no row: another writer came first."""


def update_if_unchanged(connection, ticket: TicketRow, *, name: str, saved_at: datetime,
                        is_rush: bool, order_type: str) -> TicketRow:
    """Give the ticket its new name, rush flag, order type, next version and save time if it
    is still as read and open (a conditional update); returns the ticket as it now is. Raises
    Missed when another writer changed or closed it meanwhile."""
    result = connection.execute(_UPDATE_IF_UNCHANGED, {
        "ticket_id": ticket.id, "read": ticket.version, "new_name": name,
        "new_version": ticket.version + 1, "saved_at": saved_at, "new_is_rush": is_rush,
        "new_order_type": order_type})
    if result.rowcount != 1:
        raise Missed
    return TicketRow(ticket.id, name, ticket.version + 1, False, ticket.created_at, saved_at,
                     ticket.device_name, ticket.user_user_name, ticket.user_name, is_rush,
                     order_type, list(ticket.items))


def save_items(connection, ticket: TicketRow, items: list[dict]) -> None:
    """Give the updated `ticket` these `items` (dicts of product_code, quantity, note and
    course), place by place: a row is updated where its values differ, and only the surplus is
    inserted or deleted. The values given are kept, not those read back: an answer shows 2 for
    a quantity sent as 2. Reads nothing back (new items' ids stay unknown)."""
    old = ticket.items
    changed = [{"item_id": line.id, **{"new_" + f: values[f] for f in _FIELDS}}
               for line, values in zip(old, items)
               if any(getattr(line, f) != values[f] for f in _FIELDS)]
    if changed:
        connection.execute(_UPDATE_ITEM, changed)
    if len(old) > len(items):
        connection.execute(_DELETE_ITEMS, {"ticket_id": ticket.id, "last": len(items)})
    lines = [Line(line.id, line.position, *(values[f] for f in _FIELDS))
             for line, values in zip(old, items)]
    added = [{"ticket_id": ticket.id, "position": position, **values}
             for position, values in enumerate(items[len(old):], start=len(old) + 1)]
    if added:
        connection.execute(_INSERT_ITEMS, added)
    lines += [Line(None, row["position"], *(row[f] for f in _FIELDS)) for row in added]
    ticket.items = lines
