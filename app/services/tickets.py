"""Tickets (contract 3.1): open bills whose every create and update generates orders.

The difference between the items before and after a change becomes at most two orders: one
with what was added, one void order with what was taken away (negative quantities), routed to
the stations that received the originals so each station learns what to stop making.
"""
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.core import allergens, modifiers, money
from app.core import order_types as OT
from app.core import rights as R
from app.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from app.core.query import Member, Query, QuerySpec, condition_clause
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Device, Ticket, TicketItem, User, utcnow
from app.models.orders import Order, OrderCell, OrderEntry, OrderItem
from app.services import ticket_rows
from app.services.common import check_version
from app.services.order_factory import ItemSpec, OrderSpec, create_order
from app.services.ticket_rows import Missed, TicketRow
from app.services.users import PlainUser, plain_user

TICKET_QUERY = QuerySpec(members=(
    Member("id", "uuid"), Member("name", "string"), Member("isClosed", "bool"),
    Member("isRush", "bool"), Member("orderType", "enum", choices=OT.ALL),
    Member("userUserName", "string"), Member("createdDateUtc", "datetime"),
    Member("lastSavedDateUtc", "datetime"),
))
# FOR NO KEY UPDATE: other writers wait, but inserting an order that references the ticket (its
# foreign key check) does not; a plain FOR UPDATE deadlocked with status changes.
_LOCK_TICKET = (select(Ticket.id).where(Ticket.id == bindparam("ticket_id"))
                .with_for_update(key_share=True))
# Read once the lock is held: on PostgreSQL a statement that waited for a lock sees the locked
# row as the other writer left it, but every other row (the items) as it was before the wait.
# The items, device and user come in one statement: the update compares the items, and the
# answer shows all three.
_LOCKED_TICKET = (select(Ticket).where(Ticket.id == bindparam("ticket_id"))
                  .options(joinedload(Ticket.items), joinedload(Ticket.device),
                           joinedload(Ticket.user))
                  .execution_options(populate_existing=True))
_COLUMNS = {"id": Ticket.id, "name": Ticket.name, "isClosed": Ticket.is_closed,
            "isRush": Ticket.is_rush, "orderType": Ticket.order_type,
            "userUserName": User.user_name, "createdDateUtc": Ticket.created_at,
            "lastSavedDateUtc": Ticket.last_saved_at}


@dataclass(frozen=True)
class LineInput:
    product_code: str
    quantity: Decimal
    note: str | None = None
    course: int | None = None
    # app.core.modifiers.Modifier values, and the guest's allergen codes; canonical once
    # through `_canonical`, so equal dishes have equal keys.
    modifiers: tuple = ()
    allergies: tuple = ()

    @property
    def key(self):
        """What makes two lines different: the same product made differently, or for a guest
        with other allergies, is another line (a change voids the old and orders the new)."""
        return (self.product_code, self.note or None, self.course, self.modifiers,
                self.allergies)


def _canonical(lines: list[LineInput]) -> list[LineInput]:
    return [replace(line, modifiers=modifiers.normalise(line.modifiers),
                    allergies=allergens.normalise(line.allergies)) for line in lines]


def _require(user: User, right: str) -> None:
    if not R.has_right(user.rights, right):
        raise Forbidden(f"This needs the {right} right.")


def _require_any_ticket_right(user: User) -> None:
    if not R.TICKET_RIGHTS & set(user.rights):
        raise Forbidden("Tickets need the ticketCreate or ticketUpdate right.")


def list_tickets(*, user: User, query: Query) -> tuple[list[Ticket], int]:
    _require_any_ticket_right(user)
    statement = select(Ticket).join(Ticket.user)
    for condition in query.conditions:
        statement = statement.where(condition_clause(condition, _COLUMNS[condition.member]))
    total = db.session.scalar(statement.with_only_columns(func.count()).order_by(None))
    order_by = [(_COLUMNS[k.member].desc() if k.descending else _COLUMNS[k.member].asc())
                for k in query.sort] or [Ticket.created_at.desc()]
    statement = (statement.options(selectinload(Ticket.items), selectinload(Ticket.device),
                                   selectinload(Ticket.user))
                 .order_by(*order_by, Ticket.id).offset(query.skip).limit(query.take))
    return list(db.session.scalars(statement)), total


def get_ticket(*, user: User, ticket_id: str) -> Ticket:
    _require_any_ticket_right(user)
    ticket = db.session.get(Ticket, str(ticket_id))
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def _validate(name, lines: list[LineInput], *, is_rush=False, order_type=OT.DEFAULT) -> None:
    """Raises Invalid naming every bad member; `is_rush` and `order_type` may be None (kept as
    they are)."""
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors.append(FieldError("name", "A name of 1 to 120 characters is required."))
    if is_rush is not None and not isinstance(is_rush, bool):
        errors.append(FieldError("isRush", "isRush is true or false."))
    if order_type is not None and OT.canonical(order_type) is None:
        errors.append(FieldError("orderType", OT.unknown_message(order_type)))
    for i, line in enumerate(lines):
        if not line.product_code or len(line.product_code) > 40:
            errors.append(FieldError(f"items[{i}].productCode", "A product code is required."))
        q = line.quantity
        # The bound is checked before quantize(), which raises on numbers beyond its precision.
        if q is None or not q.is_finite() or q <= 0 or q >= money.LINE_QUANTITY_LIMIT \
                or q != q.quantize(Decimal("0.001")):
            errors.append(FieldError(f"items[{i}].quantity",
                                     "A quantity above zero, below 10^9, with at most 3 "
                                     "decimals, is required."))
        if line.note is not None and len(line.note) > 500:
            errors.append(FieldError(f"items[{i}].note", "A note has at most 500 characters."))
        if line.course is not None and not 0 <= line.course <= 99:
            errors.append(FieldError(f"items[{i}].course", "A course is a number from 0 to 99."))
        errors += modifiers.check(line.modifiers, f"items[{i}].modifiers")
        errors += allergens.check(line.allergies, f"items[{i}].allergies")
    if errors:
        raise Invalid(errors)


def _totals(lines) -> dict:
    totals: dict = defaultdict(Decimal)
    for line in lines:
        totals[line.key] += line.quantity
    return totals


def _earlier_routing(session, ticket_id: str | None) -> dict:
    """(code, note) -> (name, unit price, station ids) of what earlier orders of the ticket sent."""
    # The ticket's orders first, on their own: joined to the items in one statement, SQLite's
    # planner, whose statistics see a million orders of no ticket as one value, scanned every
    # order item instead (seconds at a million orders).
    order_ids = list(session.scalars(select(Order.id).where(
        Order.ticket_id == ticket_id, Order.is_void.is_(False))))
    if not order_ids:
        return {}
    # In item order, sorted here: an ORDER BY could again lead the planner to walk every item.
    rows = sorted(session.execute(
        select(OrderItem.id, OrderEntry.id, OrderItem.product_code, OrderItem.note,
               OrderItem.name, OrderItem.unit_price, OrderEntry.station_id)
        .join(OrderCell, OrderCell.item_id == OrderItem.id)
        .join(OrderEntry, OrderEntry.id == OrderCell.entry_id)
        .where(OrderItem.order_id.in_(order_ids))).all())
    routing: dict = {}
    for _, _, code, note, name, price, station_id in rows:
        _, _, stations = routing.setdefault((code, note), (name, price, []))
        if station_id not in stations:
            stations.append(station_id)
    return routing


@dataclass
class _Plan:
    """The orders a change makes, worked out before its write transaction."""
    added: list[ItemSpec]
    removed: list[ItemSpec]
    stations: dict
    # The user the orders record, read before the write transaction: a rolled back attempt
    # expires a User object.
    author: PlainUser
    device_name: str | None
    is_rush: bool = False
    order_type: str = OT.DEFAULT


def _plan(session, *, ticket_id: str | None, user: User, device: Device | None, before: dict,
          after: dict, order: list, lines: list[LineInput], is_rush: bool = False,
          order_type: str = OT.DEFAULT) -> _Plan:
    """The items of the order of what was added and of the void order of what was taken away.
    Added items go to their product's stations that take `order_type` (none taking it: the
    device's default station, if that one does); a void goes where the originals went.
    Raises Invalid naming each new line whose product is unknown or routed nowhere."""
    added, removed = [], []
    for key in order:
        delta = after.get(key, Decimal(0)) - before.get(key, Decimal(0))
        if delta > 0:
            added.append((key, delta))
        elif delta < 0:
            removed.append((key, delta))
    wanted = {key[0] for key, _ in added + removed}
    products = ticket_rows.read_products(session.connection(), wanted) if wanted else {}
    loaded_stations = {s.id: s for p in products.values() for s in p.stations}
    default_station = device.default_station_id if device else None
    errors, added_specs = [], []
    # Errors name the first line of the new items that holds the key, as `_validate` does.
    position = {}
    for i, line in enumerate(lines):
        position.setdefault(line.key, i)
    for key, delta in added:
        member = f"items[{position[key]}].productCode"
        product = products.get(key[0])
        if product is None:
            errors.append(FieldError(member, f"Unknown product code {key[0]!r}."))
            continue
        stations = [s.id for s in product.stations
                    if order_type in OT.station_types(s.settings)]
        if not stations and default_station:
            if default_station not in loaded_stations:
                loaded_stations.update(ticket_rows.read_stations(session.connection(),
                                                                 [default_station]))
            fallback = loaded_stations.get(default_station)
            if fallback is not None and order_type in OT.station_types(fallback.settings):
                stations = [default_station]
        if not stations:
            reason = (f"to no station that takes {order_type} orders" if product.stations
                      else "to no station")
            errors.append(FieldError(member, f"Product {key[0]!r} is routed {reason} and "
                                             "the device has no default station that does."))
            continue
        added_specs.append(ItemSpec(product_code=key[0], name=product.name, quantity=delta,
                                    unit_price=product.price, station_ids=stations,
                                    note=key[1], course=key[2] if key[2] is not None
                                    else product.course, prep_seconds=product.prep_seconds,
                                    modifiers=key[3], allergies=key[4],
                                    allergens=product.allergens))
    if errors:
        raise Invalid(errors)
    removed_specs = []
    if removed:
        routing = _earlier_routing(session, ticket_id)
        for key, delta in removed:
            name, price, stations = routing.get(key[:2], (None, None, []))
            product = products.get(key[0])
            removed_specs.append(ItemSpec(
                product_code=key[0], name=name or (product.name if product else key[0]),
                quantity=delta, unit_price=price if price is not None else
                (product.price if product else Decimal(0)),
                station_ids=stations or ([s.id for s in product.stations] if product else []),
                note=key[1], course=key[2] if key[2] is not None
                else (product.course if product else None),
                prep_seconds=product.prep_seconds if product else None,
                modifiers=key[3], allergies=key[4],
                allergens=product.allergens if product else ()))
        removed_specs = [s for s in removed_specs if s.station_ids]
    # Every station the orders go to, read now: the write transaction reads nothing (a void
    # goes where the original went, which may be no product's station any more).
    missing = {sid for spec in added_specs + removed_specs for sid in spec.station_ids
               if sid not in loaded_stations}
    if missing:
        loaded_stations.update(ticket_rows.read_stations(session.connection(), missing))
    return _Plan(added_specs, removed_specs, loaded_stations,
                 plain_user(user), device.name if device else None, is_rush, order_type)


def _make_orders(session, plan: _Plan, *, ticket) -> list[Order]:
    """Write the plan's orders for `ticket` (anything with its id and current name); returns
    them as objects of the session."""
    made = []
    for specs, is_void in ((plan.added, False), (plan.removed, True)):
        if specs:
            made.append(create_order(session, OrderSpec(
                source="ticket", user=plan.author, items=specs, ticket=ticket, is_void=is_void,
                device_name=plan.device_name, is_rush=plan.is_rush, order_type=plan.order_type,
                currency=current_app.config["DEFAULT_CURRENCY"]), stations=plan.stations))
    return made


def _item_values(line: LineInput) -> dict:
    return {"product_code": line.product_code, "quantity": line.quantity,
            "note": line.note or None, "course": line.course, "modifiers": line.modifiers,
            "allergies": line.allergies}


def _keys_in_order(*line_lists) -> list:
    return list(dict.fromkeys(line.key for lines in line_lists for line in lines))


def create_ticket(*, user: User, device: Device | None, name: str, lines: list[LineInput],
                  is_rush: bool = False, order_type: str = OT.DEFAULT
                  ) -> tuple[Ticket, list[Order]]:
    """Open a ticket and generate the order for its items, which carries the ticket's rush flag
    and order type. Raises Forbidden, Invalid."""
    _require(user, R.TICKET_CREATE)
    _validate(name, lines, is_rush=is_rush, order_type=order_type)
    lines = _canonical(lines)
    order_type = OT.canonical(order_type)
    with write_transaction() as session:
        now = utcnow()
        ticket = Ticket(name=name.strip(), user_id=user.id,
                        device_id=device.id if device else None, version=1,
                        created_at=now, last_saved_at=now, is_rush=is_rush,
                        order_type=order_type)
        ticket.items = [TicketItem(position=i, **_item_values(line))
                        for i, line in enumerate(lines, start=1)]
        session.add(ticket)
        session.flush()  # the orders' rows refer to it
        plan = _plan(session, ticket_id=None, user=user, device=device, before={},
                     after=_totals(lines), order=_keys_in_order(lines), lines=lines,
                     is_rush=is_rush, order_type=order_type)
        orders = _make_orders(session, plan, ticket=ticket)
    return ticket, orders


def _locked_open_ticket(session, ticket_id: str, version: int | None) -> Ticket:
    """The ticket, locked for this transaction; refused if stale or closed."""
    if session.scalar(_LOCK_TICKET, {"ticket_id": str(ticket_id)}) is None:
        raise NotFound("No such ticket.")
    ticket = session.execute(_LOCKED_TICKET, {"ticket_id": str(ticket_id)}).unique().scalar_one()
    check_version(ticket.version, version)
    if ticket.is_closed:
        raise Conflict("The ticket is closed.", member_name="isClosed")
    return ticket


UPDATE_ATTEMPTS = 20


def update_ticket(*, user: User, device: Device | None, ticket_id: str, name: str,
                  lines: list[LineInput], version: int | None = None,
                  is_rush: bool | None = None, order_type: str | None = None
                  ) -> tuple[TicketRow, list[Order]]:
    """Replace the ticket's name and items, and its rush flag and order type where given (None
    keeps them); generate orders for the difference, carrying the flag and type the ticket has
    now. Orders made before keep theirs (an order's rush is set on the order).

    The ticket is read, and the orders worked out, before the write transaction, which first
    updates the ticket as read with a conditional update (app.services.ticket_rows); should
    another writer have come first, all of it is done again from a fresh read, as a writer
    queued on a lock would have.
    Raises Forbidden, NotFound, Invalid, VersionMismatch, Conflict (closed ticket, or one
    changed by others on every attempt).
    """
    _require(user, R.TICKET_UPDATE)
    _validate(name, lines, is_rush=is_rush, order_type=order_type)
    lines = _canonical(lines)
    name = name.strip()
    wanted_type = OT.canonical(order_type) if order_type is not None else None
    for attempt in range(UPDATE_ATTEMPTS):
        session = db.session()
        ticket = ticket_rows.read_ticket(session.connection(), ticket_id)
        if ticket is None:
            raise NotFound("No such ticket.")
        check_version(ticket.version, version)
        if ticket.is_closed:
            raise Conflict("The ticket is closed.", member_name="isClosed")
        old_lines = [LineInput(i.product_code, i.quantity, i.note, i.course, i.modifiers,
                               i.allergies) for i in ticket.items]
        rush = ticket.is_rush if is_rush is None else is_rush
        kind = wanted_type or ticket.order_type
        if name == ticket.name and (rush, kind) == (ticket.is_rush, ticket.order_type) and \
                [line.key + (line.quantity,) for line in old_lines] == \
                [line.key + (line.quantity,) for line in lines]:
            return ticket, []
        plan = _plan(session, ticket_id=ticket.id, user=user, device=device,
                     before=_totals(old_lines),
                     after=_totals(lines), order=_keys_in_order(lines, old_lines), lines=lines,
                     is_rush=rush, order_type=kind)
        try:
            # The transaction goes on from the reads above, and writes first what the session
            # held unwritten (app.db.transactions).
            with write_transaction(keep_loaded=True) as session:
                connection = session.connection()
                updated = ticket_rows.update_if_unchanged(connection, ticket, name=name,
                                                          saved_at=utcnow(), is_rush=rush,
                                                          order_type=kind)
                ticket_rows.save_items(connection, updated,
                                       [_item_values(line) for line in lines])
                orders = _make_orders(session, plan, ticket=updated)
        except Missed:  # overtaken: read again
            continue
        _forget(session, ticket.id)
        return updated, orders
    raise Conflict("The ticket is being changed by others; try again.")


def _forget(session, ticket_id: str) -> None:
    """Expire the ticket's objects the session may hold: their rows were written beside it."""
    held = session.identity_map.get(session.identity_key(Ticket, ticket_id))
    if held is None:
        return
    for item in held.__dict__.get("items", ()):  # only a collection already loaded
        session.expire(item)
    session.expire(held)


def close_ticket(*, user: User, ticket_id: str, version: int | None = None) -> Ticket:
    _require(user, R.TICKET_UPDATE)
    with write_transaction() as session:
        ticket = _locked_open_ticket(session, ticket_id, version)
        ticket.is_closed = True
        ticket.version += 1
        ticket.last_saved_at = utcnow()
    return ticket
