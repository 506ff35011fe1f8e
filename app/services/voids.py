"""Which orders a void order cancels.

A ticket change that takes items away makes a void order (app.services.tickets) holding the
quantities taken away, negative; it names no earlier order, because the ticket keeps totals per
line, not per order. The link is worked out from the ticket's own orders, which never change
once made: walking them in number order, each order's quantities are stacked per line (product
and note, as the void order was routed), and a void order takes its quantities off the newest
first. The newest is what a person taking an item back most often means (the last round was
keyed in by mistake), and the least likely to be on a plate already.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.orders import Order, OrderCell, OrderEntry, OrderItem


@dataclass(frozen=True)
class OrderRef:
    id: str
    number: int


@dataclass
class VoidLinks:
    """`cancels`: void order id -> the orders it takes quantities from, oldest first;
    `cancelled_by`: order id -> the void orders taking quantities from it, oldest first."""
    cancels: dict[str, list[OrderRef]] = field(default_factory=dict)
    cancelled_by: dict[str, list[OrderRef]] = field(default_factory=dict)


def find_void_links(ticket_ids, *, station_id: int | None = None) -> VoidLinks:
    """The links between the void orders and the other orders of these tickets (deleted orders
    included: they are part of the tickets' history); with `station_id`, of the items routed to
    that station only, so a station is told of what it makes alone. Reads nothing more when
    none of the tickets has a void order."""
    ticket_ids = sorted({t for t in ticket_ids if t})
    links = VoidLinks()
    if not ticket_ids:
        return links
    # First the tickets that have a void order, then their orders: two lookups by ticket that
    # each read the ticket index. Asked as one statement (orders of these tickets where a
    # void of the same ticket exists), SQLite's planner scanned every order.
    with_voids = list(db.session.scalars(
        select(Order.ticket_id).distinct()
        .where(Order.ticket_id.in_(ticket_ids), Order.is_void.is_(True))))
    if not with_voids:
        return links
    orders = db.session.execute(
        select(Order.id, Order.number, Order.is_void, Order.ticket_id)
        .where(Order.ticket_id.in_(with_voids))).all()
    # The items by their orders' ids, on their own: joined to the orders by ticket in one
    # statement, SQLite's planner walks every item (as app.services.tickets notes).
    items = defaultdict(list)
    statement = (select(OrderItem.order_id, OrderItem.product_code, OrderItem.note,
                        OrderItem.modifiers, OrderItem.allergies, OrderItem.quantity)
                 .where(OrderItem.order_id.in_([row.id for row in orders]))
                 .order_by(OrderItem.order_id, OrderItem.item_no))
    if station_id is not None:
        statement = (statement.join(OrderCell, OrderCell.item_id == OrderItem.id)
                     .join(OrderEntry, OrderEntry.id == OrderCell.entry_id)
                     .where(OrderEntry.station_id == station_id))
    for order_id, code, note, mods, allergies, quantity in db.session.execute(statement):
        items[order_id].append(((code, note or None, mods, allergies), Decimal(quantity)))
    # (ticket, line) -> [[OrderRef, quantity left]]; a line is its product, note, modifiers and
    # guest allergies, as the ticket tells lines apart.
    stacks: dict = defaultdict(list)
    for row in sorted(orders, key=lambda r: r.number):
        ref = OrderRef(row.id, row.number)
        for line, quantity in items[row.id]:
            stack = stacks[(row.ticket_id, line)]
            if not row.is_void:
                stack.append([ref, quantity])
                continue
            wanted = -quantity
            while wanted > 0 and stack:
                original, left = stack[-1]
                taken = min(wanted, left)
                wanted -= taken
                stack[-1][1] = left - taken
                if stack[-1][1] <= 0:
                    stack.pop()
                _link(links.cancels, row.id, original)
                _link(links.cancelled_by, original.id, ref)
    for refs in (*links.cancels.values(), *links.cancelled_by.values()):
        refs.sort(key=lambda r: r.number)
    return links


def _link(links: dict, key: str, ref: OrderRef) -> None:
    refs = links.setdefault(key, [])
    if ref not in refs:
        refs.append(ref)
