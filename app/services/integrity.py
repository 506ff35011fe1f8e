"""Integrity checks: what the database must always agree with, whatever crashed or raced.

Run by `flask check-integrity` (it exits non-zero on any mismatch) and by the tests after
concurrency bursts and killed workers. Each check reads the whole table it checks: this is an
operator's tool, not something a request runs.
"""
from collections import Counter, defaultdict
from decimal import Decimal

from sqlalchemy import func, null, select

from app.core import allergens, modifiers
from app.core import order_types as OT
from app.core import status as S
from app.extensions import db
from app.models import Counter as CounterRow
from app.models import Product, Ticket, TicketItem
from app.models.orders import Order, OrderCell, OrderEntry, OrderItem
from app.services import counts

FINISHED = (S.COMPLETED, S.CANCELLED)


def check_integrity() -> list[str]:
    """Every mismatch found, as sentences; an empty list when all is well."""
    return [*_numbers(), *_statuses(), *_open_flags(), *_counters(), *_tickets(),
            *_order_types(), *_courses(), *_modifiers_and_allergens()]


def _numbers() -> list[str]:
    problems = []
    duplicated = db.session.execute(
        select(Order.number, func.count()).group_by(Order.number)
        .having(func.count() > 1)).all()
    problems += [f"Order number {number} is used {times} times." for number, times in duplicated]
    highest = db.session.scalar(select(func.max(Order.number))) or 0
    issued = db.session.scalar(select(CounterRow.value)
                               .where(CounterRow.name == counts.ORDER_NUMBER)) or 0
    if issued < highest:
        problems.append(f"The order-number counter ({issued}) is below the highest number "
                        f"in use ({highest}).")
    return problems


def _statuses() -> list[str]:
    cells = defaultdict(list)
    for order_id, status in db.session.execute(select(OrderCell.order_id, OrderCell.status)):
        cells[order_id].append(status)
    problems = []
    for order_id, number, status in db.session.execute(
            select(Order.id, Order.number, Order.status)):
        expected = S.aggregate(cells[order_id]) if cells[order_id] else S.NEW
        if status != expected:
            problems.append(f"Order {number} is stored as {status}; its cells say {expected}.")
    return problems


def _open_flags() -> list[str]:
    to_do = defaultdict(bool)
    for entry_id, status in db.session.execute(select(OrderCell.entry_id, OrderCell.status)):
        to_do[entry_id] |= status not in FINISHED
    return [f"Station entry {entry_id} is marked {'open' if is_open else 'done'}; its cells "
            f"say otherwise." for entry_id, is_open in
            db.session.execute(select(OrderEntry.id, OrderEntry.is_open))
            if is_open != to_do[entry_id]]


def _counters() -> list[str]:
    stored = dict(db.session.execute(
        select(CounterRow.name, CounterRow.value)
        .where(CounterRow.name.startswith(counts.PREFIX))).all())
    real: Counter = Counter()
    live = select(Order.id, Order.status, Order.is_void, Order.source).where(
        Order.deleted_at.is_(None))
    stations_of = defaultdict(set)
    for order_id, station_id in db.session.execute(
            select(OrderEntry.order_id, OrderEntry.station_id)):
        stations_of[order_id].add(station_id)
    for order_id, status, is_void, source in db.session.execute(live):
        real.update(counts.membership(status=status, is_void=is_void, source=source,
                                      station_ids=stations_of[order_id]))
    return [f"Counter {name} holds {stored.get(name, 0)}; there are {real[name]}."
            for name in sorted(set(stored) | set(real)) if stored.get(name, 0) != real[name]]


def _tickets() -> list[str]:
    """A ticket's orders (new ones and voids, deleted ones too: deleting an order does not
    change the bill) add up to its items, line by line."""
    # A line is its product, note, modifiers and guest allergies, as the ticket difference
    # tells lines apart: both are stored canonical (app.core.modifiers), so they compare as read.
    wanted = defaultdict(Decimal)
    for ticket_id, code, note, mods, allergies, quantity in db.session.execute(
            select(TicketItem.ticket_id, TicketItem.product_code, TicketItem.note,
                   TicketItem.modifiers, TicketItem.allergies, TicketItem.quantity)):
        wanted[ticket_id, code, note or None, mods, allergies] += quantity
    ordered = defaultdict(Decimal)
    for ticket_id, code, note, mods, allergies, quantity in db.session.execute(
            select(Order.ticket_id, OrderItem.product_code, OrderItem.note, OrderItem.modifiers,
                   OrderItem.allergies, OrderItem.quantity)
            .join(Order, Order.id == OrderItem.order_id).where(Order.ticket_id.is_not(None))):
        ordered[ticket_id, code, note or None, mods, allergies] += quantity
    return [f"Ticket {key[0]} has {wanted[key]} of {_line_label(key)}; its orders have "
            f"{ordered[key]}." for key in sorted(set(wanted) | set(ordered), key=str)
            if wanted[key] != ordered[key]]


def _line_label(key) -> str:
    _, code, _, mods, allergies = key
    extras = [modifiers.text(m) for m in mods] + [f"allergy {a}" for a in allergies]
    return f"{code} ({', '.join(extras)})" if extras else code


def _order_types() -> list[str]:
    """Every order and ticket has a known order type; web-shop orders are web."""
    problems = [f"Order {number} has the unknown order type {kind!r}." for number, kind in
                db.session.execute(select(Order.number, Order.order_type)
                                   .where(Order.order_type.not_in(OT.ALL)))]
    problems += [f"Order {number} came from the web shop but is {kind!r}, not web."
                 for number, kind in db.session.execute(
                     select(Order.number, Order.order_type)
                     .where(Order.source == "basket", Order.order_type != OT.WEB))]
    problems += [f"Ticket {ticket_id} has the unknown order type {kind!r}." for ticket_id, kind
                 in db.session.execute(select(Ticket.id, Ticket.order_type)
                                       .where(Ticket.order_type.not_in(OT.ALL)))]
    return problems


def _courses() -> list[str]:
    """Courses that fire (app.services.courses): an item has a start time exactly when it was
    fired, never before it; an item without a course, or of its order's first course, was
    fired with the order."""
    items = defaultdict(list)
    for row in db.session.execute(
            select(OrderItem.order_id, OrderItem.item_no, OrderItem.course, OrderItem.fired_at,
                   OrderItem.start_at)):
        items[row.order_id].append(row)
    numbers = dict(db.session.execute(select(Order.id, Order.number)).all())
    problems = []
    for order_id, rows in items.items():
        first = min((r.course for r in rows if r.course is not None), default=None)
        for r in rows:
            label = f"Item {r.item_no} of order {numbers.get(order_id)}"
            if (r.start_at is None) != (r.fired_at is None) or (
                    r.start_at is not None and r.start_at < r.fired_at):
                problems.append(f"{label} has a start time that does not follow its firing.")
            if r.fired_at is None and (r.course is None or r.course == first):
                problems.append(f"{label} belongs to no later course but was never fired.")
    return problems


def _modifiers_and_allergens() -> list[str]:
    """Modifiers and allergen lists are stored canonical (a line's key compares them as read),
    and name only the fourteen allergens."""
    problems = []
    sources = [
        ("Ticket line", select(TicketItem.id, TicketItem.modifiers, TicketItem.allergies)),
        ("Order item", select(OrderItem.id, OrderItem.modifiers, OrderItem.allergies)),
        ("Order item", select(OrderItem.id, OrderItem.modifiers, OrderItem.allergens)),
        ("Product", select(Product.code, null(), Product.allergens)),
    ]
    for label, statement in sources:
        for key, mods, codes in db.session.execute(statement):
            if tuple(mods or ()) != modifiers.normalise(mods):
                problems.append(f"{label} {key} has modifiers not in their canonical form.")
            if tuple(codes or ()) != allergens.normalise(codes) or \
                    any(allergens.canonical(c) != c for c in codes or ()):
                problems.append(f"{label} {key} names allergens outside the EU list, or "
                                "not in its order.")
    return list(dict.fromkeys(problems))
