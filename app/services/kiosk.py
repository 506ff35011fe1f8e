"""Station kiosks: the cards a station's screen shows, and the taps on them.

Every change goes through app.services.order_status, so a kiosk obeys exactly the rules, locks
and history of the API. A screen is acted on by a signed-in User or by a KioskActor: the screen
a kiosk link signed in, which may view and bump its own station (or the expo screen) only.
"""
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, exists, false, func, or_, select, true, union_all
from sqlalchemy.orm import selectinload

from app.core import allergens as A
from app.core import event_types
from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.screen_settings import is_compact
from app.core.station_settings import value_of
from app.db.hints import rare
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, utcnow
from app.models.orders import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.services import courses, events, history, order_status, station_health, voids
from app.services.kiosk_links import EXPO, require_screen
from app.services.orders import lock_visible_order
from app.services.stations import get_station

OPEN = order_status.OPEN  # still to do at a station: not Completed, not Cancelled
# The expo screen ages cards by the stations' defaults.
DEFAULT_WARN_MINUTES = value_of({}, "warnAfterMinutes")
DEFAULT_LATE_MINUTES = value_of({}, "lateAfterMinutes")
# The screen pages what does not fit (static/js/kiosk.js), so every card is drawn, up to a
# bound no kitchen reaches; beyond it the rest are counted, not drawn.
MAX_CARDS = 200


# --- who is looking: require_screen lives with the links, the one place of their scope ------

def _require_change(viewer, target: str) -> None:
    require_screen(viewer, target)
    if not R.has_right(viewer.rights, R.ORDER_UPDATE):
        raise Forbidden("Changing a status needs the orderUpdate right.")


def can_change(viewer, target: str) -> bool:
    try:
        _require_change(viewer, target)
    except Forbidden:
        return False
    return True


def is_unchanged(*, viewer, target: str, version) -> bool:
    """The live poll's cheap answer: True when nothing changed since the screen's `version`.
    Checks the same access as the screen itself, then reads one counter row."""
    require_screen(viewer, target)
    return version is not None and str(version) == str(history.change_counter())


def station_alarms(*, viewer, stations=None) -> list:
    """Active stations that fail or that no screen watches, with their health: the banner of
    the dashboard and the expo (those who may see the expo). `stations`: every station, if
    the caller read them already. Raises Forbidden."""
    require_screen(viewer, EXPO)
    return station_health.alarmed_stations(stations)


def sees_alarms(viewer) -> bool:
    try:
        require_screen(viewer, EXPO)
    except Forbidden:
        return False
    return True


def note_screen(*, viewer, station_name: str, screen_id: str) -> None:
    """A screen showing the station's board is there (app.services.station_health)."""
    require_screen(viewer, station_name)
    station_health.note_screen(station_name=station_name, screen_id=screen_id)


# --- the station screen -----------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    item: OrderItem
    status: str
    next_status: str | None
    held: bool = False     # waits for its course to be fired (app.services.courses)
    waiting: bool = False  # fired, New, and not due to start yet (item.start_at is ahead)


@dataclass(frozen=True)
class Card:
    order: Order
    status: str
    next_status: str | None
    since: datetime
    lines: list[Line]
    voids: tuple[int, ...] = ()  # a void order: the numbers of the orders it cancels
    voided_by: tuple[int, ...] = ()  # the numbers of the void orders cancelling this one
    for_station: str | None = None  # handed over: the station whose part of the order it is
    allergies_acknowledged: bool = False

    @property
    def allergies(self) -> tuple[str, ...]:
        """The guest allergies of the card's lines still to do, in the EU list's order."""
        return guest_allergies(line.item for line in self.lines if line.status in OPEN)

    @property
    def needs_acknowledgement(self) -> bool:
        """The card has guest allergies nobody at the station has acknowledged: it cannot be
        bumped (or tapped to Completed) until someone does."""
        return (bool(self.allergies) and not self.allergies_acknowledged
                and not self.order.is_void)


@dataclass(frozen=True)
class Board:
    target: str
    version: int
    now: datetime
    warn_minutes: int
    late_minutes: int
    cards: list = field(default_factory=list)
    more: int = 0
    all_day: list = field(default_factory=list)  # (product code, name, quantity waiting)
    compact: bool = False  # the station's setting: smaller cards, more on each page


def guest_allergies(items) -> tuple[str, ...]:
    return A.normalise(code for item in items for code in item.allergies)


def next_stage(status: str) -> str | None:
    """The stage a tap moves to; None when there is none (Completed, Cancelled)."""
    if status not in S.STAGES or status == S.COMPLETED:
        return None
    return S.STAGES[S.STAGES.index(status) + 1]


def _on_screen(station_id: int):
    """Dispatched entries of live orders at the station with something still to do: its own,
    except those handed to a backup, and those handed to it (app.services.station_health).

    `is_open` (kept with the cells) rather than a look at the cells: the indexes on (station,
    is_open, processed_at) and (handed_to_id, is_open, processed_at) then yield the few open
    entries, where the cells would have to be read for every entry the station ever had."""
    # Two lookups, one per index, joined in a union: asked as one OR, SQLite's planner may
    # read every entry the station ever had.
    open_here = (OrderEntry.is_open == true(), OrderEntry.processed_at.is_not(None))
    here = OrderEntry.id.in_(union_all(
        select(OrderEntry.id).where(OrderEntry.station_id == station_id,
                                    OrderEntry.handed_to_id.is_(None), *open_here),
        select(OrderEntry.id).where(OrderEntry.handed_to_id == station_id, *open_here)))
    return and_(here, OrderEntry.is_open == true(),
                OrderEntry.processed_at.is_not(None), Order.deleted_at.is_(None))


def get_station_board(*, viewer, station_name: str, seen_version=None) -> Board | None:
    """The station's cards, rush orders first, then oldest dispatch first, and its all-day
    counts; None when the screen's `seen_version` is still the current change counter
    (nothing to redraw).

    The change counter is read before the cards, so a change landing in between makes the next
    poll redraw rather than be missed. Raises Forbidden, NotFound.
    """
    require_screen(viewer, station_name)
    version = history.change_counter()
    if seen_version is not None and str(seen_version) == str(version):
        return None
    station = get_station(station_name)
    total = db.session.scalar(select(func.count()).select_from(OrderEntry)
                              .join(Order, Order.id == OrderEntry.order_id)
                              .where(_on_screen(station.id)))
    rows = db.session.execute(
        select(Order, OrderEntry.id, OrderEntry.processed_at,
               OrderEntry.allergies_acknowledged_at, OrderEntry.station_id)
        .join(OrderEntry, OrderEntry.order_id == Order.id)
        .where(_on_screen(station.id))
        .order_by(Order.is_rush.desc(), OrderEntry.processed_at, Order.number)
        .limit(MAX_CARDS)).all()
    now = utcnow()
    lines = _lines([row.id for row in rows], holds=courses.holds_courses(station), now=now)
    handed = {owner for *_, owner in rows if owner != station.id}
    owners = dict(db.session.execute(select(Station.id, Station.name).where(
        Station.id.in_(handed))).all()) if handed else {}
    cards = []
    for order, entry_id, since, acknowledged_at, owner in rows:
        # A card's status is that of what may be worked on: held lines wait for their course.
        workable = [line for line in lines[entry_id] if not line.held]
        status = S.aggregate(line.status for line in workable or lines[entry_id])
        cards.append(Card(order=order, status=status,
                          next_status=next_stage(status) if workable else None,
                          since=since, lines=lines[entry_id], for_station=owners.get(owner),
                          allergies_acknowledged=acknowledged_at is not None))
    cards = _with_void_marks(cards, station.id)
    return Board(target=station.name, version=version, now=now, cards=cards,
                 more=total - len(cards), all_day=_all_day(station.id),
                 compact=is_compact(station.settings),
                 warn_minutes=value_of(station.settings, "warnAfterMinutes"),
                 late_minutes=value_of(station.settings, "lateAfterMinutes"))


def _with_void_marks(cards: list[Card], station_id: int) -> list[Card]:
    """The cards with their void links marked, and each void order's card moved to just after
    the card of the order it cancels (the newest one, if it cancels several on this screen), so
    the two are read together. A void order whose originals are all off the screen keeps its
    place."""
    links = voids.find_void_links((card.order.ticket_id for card in cards),
                                  station_id=station_id)
    if not links.cancels:
        return cards
    marked = [replace(card,
                      voids=tuple(r.number for r in links.cancels.get(card.order.id, ())),
                      voided_by=tuple(r.number for r in links.cancelled_by.get(card.order.id, ())))
              for card in cards]
    place = {card.order.id: i for i, card in enumerate(marked)}
    following: dict[str, list[Card]] = {}
    moved = set()
    for card in marked:
        shown = [r.id for r in links.cancels.get(card.order.id, ()) if r.id in place]
        if card.order.is_void and shown:
            following.setdefault(max(shown, key=place.get), []).append(card)
            moved.add(card.order.id)
    ordered = []
    for card in marked:
        if card.order.id not in moved:
            ordered.append(card)
            ordered.extend(following.get(card.order.id, ()))
    return ordered


def _lines(entry_ids: list[int], *, holds: bool = False, now=None) -> dict[int, list[Line]]:
    """The items of these station entries with their cells' statuses: one statement for the
    whole board, and only this station's cells, placed as `_place` says. `holds`: the station
    holds courses, so a New line of an unfired item is held."""
    lines = {entry_id: [] for entry_id in entry_ids}
    if not entry_ids:
        return lines
    rows = db.session.execute(
        select(OrderCell.entry_id, OrderCell.status, OrderItem)
        .join(OrderItem, OrderItem.id == OrderCell.item_id)
        .where(OrderCell.entry_id.in_(entry_ids))
        .order_by(OrderCell.entry_id, OrderItem.item_no)).all()
    for entry_id, status, item in rows:
        held = holds and item.fired_at is None and status == S.NEW
        waiting = (not held and status == S.NEW and item.start_at is not None
                   and now is not None and item.start_at > now)
        lines[entry_id].append(Line(item, status, None if held else next_stage(status),
                                    held=held, waiting=waiting))
    for entry_lines in lines.values():
        entry_lines.sort(key=_place)
    return lines


def _place(line: Line) -> tuple:
    """Where a line goes on its card: those to make now first, the latest due at the top (an
    item whose start time just came moves up), then those due later, soonest first, then the
    held ones; item order otherwise."""
    start = line.item.start_at.timestamp() if line.item.start_at else 0
    if line.held:
        return 2, 0, line.item.item_no
    if line.waiting:
        return 1, start, line.item.item_no
    return 0, -start, line.item.item_no


def _all_day(station_id: int) -> list[tuple[str, str, Decimal]]:
    """How many of each product are waiting: open cells' quantities summed, so a void order
    (negative quantities) not yet acknowledged takes its items off the count."""
    waiting = func.sum(OrderItem.quantity)
    rows = db.session.execute(
        select(OrderItem.product_code, func.max(OrderItem.name), waiting)
        .join(OrderCell, OrderCell.item_id == OrderItem.id)
        .join(OrderEntry, OrderEntry.id == OrderCell.entry_id)
        .join(Order, Order.id == OrderItem.order_id)
        .where(_on_screen(station_id), OrderCell.status.in_(OPEN))
        .group_by(OrderItem.product_code)).all()
    counts = [(code, name, Decimal(total)) for code, name, total in rows if total and total > 0]
    return sorted(counts, key=lambda row: (-row[2], row[1]))


def _station_entry(order: Order, station_name: str) -> OrderEntry:
    """The order's entry on the station's screen: its own, or one handed to it by another
    station (app.services.station_health)."""
    entry = next((e for e in order.entries if e.station.name == station_name
                  and e.handed_to_id is None), None) or next(
        (e for e in order.entries if e.handed_to is not None
         and e.handed_to.name == station_name), None)
    if entry is None or entry.processed_at is None:
        raise NotFound(f"Order {order.number} is not on the {station_name} screen.")
    return entry


def _locked_entry(session, viewer, station_name: str, order_id: str):
    """The order, locked, its entry on the station's screen (its own, or one handed to it by
    another station), that entry's cells, and the name of the station the entry belongs to
    (what status changes name)."""
    order = lock_visible_order(session, user=viewer, order_id=order_id)
    entry = _station_entry(order, station_name)
    return order, [c for c in order.cells if c.entry_id == entry.id], entry.station.name


def _unacknowledged_allergies(order: Order, station_name: str, cells) -> tuple[str, ...]:
    """The guest allergies of the station's open items, if the station has not acknowledged
    them yet; () otherwise (and for void orders, which are acknowledged as such)."""
    if order.is_void or _station_entry(order, station_name).allergies_acknowledged_at:
        return ()
    return _allergies_of(order, [c for c in cells if c.status in OPEN])


def _allergies_of(order: Order, cells) -> tuple[str, ...]:
    # From the order's items, read in one statement (as held_cells reads them), not per cell.
    item_ids = {c.item_id for c in cells}
    return guest_allergies(i for i in order.items if i.id in item_ids)


def _refuse_unacknowledged(order: Order, station_name: str, cells, target: str) -> None:
    """Completing a card (a bump, or a tap to Completed) whose guest allergies nobody at the
    station acknowledged is refused whole: the screen must show they were seen first."""
    if target != S.COMPLETED:
        return
    pending = _unacknowledged_allergies(order, station_name, cells)
    if pending:
        raise Conflict(f"Order {order.number} has a guest allergy ({', '.join(A.labels(pending))}"
                       f"): acknowledge it at {station_name} before bumping.", "status")


def _check_seen(what: str, current: str, seen) -> None:
    """A tap names the status its screen showed; if that is stale, advancing from the current
    status would skip a stage someone else already took, so nothing is changed."""
    if seen and S.canonical(seen) != current:
        raise Conflict(f"{what} is {current} now, not {seen}: it was changed meanwhile. "
                       "The screen shows its current state; tap again if needed.")


def advance_cell(*, viewer, station_name: str, order_id: str, item_id: int,
                 seen: str | None = None) -> Order:
    """Move one item at the station one stage on. Raises Forbidden, NotFound, Conflict."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, cells, owner = _locked_entry(session, viewer, station_name, order_id)
        cell = next((c for c in cells if c.item.item_no == item_id), None)
        if cell is None:
            raise NotFound(f"Order {order.number} has no item {item_id} at {station_name}.")
        _check_seen(f"Item {item_id}", cell.status, seen)
        target = next_stage(cell.status)
        if target is None:
            raise Conflict(f"Item {item_id} is {cell.status}; there is no next stage.")
        _refuse_unacknowledged(order, station_name, [cell], target)
        return order_status.set_cell_status(user=viewer, order_id=order.id, item_id=item_id,
                                            station_name=owner, status=target)


def advance_entry(*, viewer, station_name: str, order_id: str,
                  seen: str | None = None) -> Order:
    """Move the station's part of the order one stage on. Items already past that stage keep
    their status (a plain entry-level set would take them back). Raises like advance_cell."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, cells, owner = _locked_entry(session, viewer, station_name, order_id)
        # Items held for their course are left as they are; the card's status is the others'.
        held = courses.held_cells(order, cells)
        workable = [c for c in cells if c not in held]
        current = S.aggregate(c.status for c in workable or cells)
        _check_seen(f"Order {order.number}", current, seen)
        target = next_stage(current)
        if target is None:
            raise Conflict(f"Order {order.number} is {current} at {station_name}.")
        _refuse_unacknowledged(order, station_name, workable, target)
        rank = S.STAGES.index
        live = [c for c in workable if c.status != S.CANCELLED]
        if not live:
            courses.refuse_held_start(order, held, target)
        if not held and all(rank(c.status) <= rank(target) for c in live):
            return order_status.set_entry_status(user=viewer, order_id=order.id,
                                                 station_name=owner, status=target)
        for cell in [c for c in live if rank(c.status) < rank(target)]:
            order_status.set_cell_status(user=viewer, order_id=order.id,
                                         item_id=cell.item.item_no,
                                         station_name=owner, status=target)
        return order


def bump_entry(*, viewer, station_name: str, order_id: str) -> Order:
    """Complete the station's part of the order: its card leaves the screen. Items held for
    their course stay (the card with them); the others are completed."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, cells, owner = _locked_entry(session, viewer, station_name, order_id)
        _refuse_unacknowledged(order, station_name, cells, S.COMPLETED)
        held = courses.held_cells(order, cells)
        if not held:
            version = order.version
            order = order_status.set_entry_status(user=viewer, order_id=order.id,
                                                  station_name=owner, status=S.COMPLETED)
            if order.version != version:  # a card completed already is not bumped again
                events.add(order, event_types.ORDER_BUMPED, actor=viewer.user_name)
            return order
        to_complete = [c for c in cells if c not in held
                       and c.status not in (S.COMPLETED, S.CANCELLED)]
        if not to_complete:
            raise Conflict(f"Order {order.number} waits at {station_name} for its course to "
                           "be fired; there is nothing to bump yet.")
        for cell in to_complete:
            order_status.set_cell_status(user=viewer, order_id=order.id,
                                         item_id=cell.item.item_no,
                                         station_name=owner, status=S.COMPLETED)
        events.add(order, event_types.ORDER_BUMPED, actor=viewer.user_name)
        return order


def acknowledge_void(*, viewer, station_name: str, order_id: str) -> Order:
    """The station has seen a void order: its part is completed, and the history says who saw
    it. Raises Conflict for an order that is not void (those are bumped)."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, _, owner = _locked_entry(session, viewer, station_name, order_id)
        if not order.is_void:
            raise Conflict(f"Order {order.number} is not a void order; bump it instead.")
        order_status.set_entry_status(user=viewer, order_id=order.id,
                                      station_name=owner, status=S.COMPLETED)
        history.record(order, "acknowledged", user_name=viewer.user_name, level="station",
                       target=owner, detail=f"void order seen at {station_name}")
        return order


def acknowledge_allergies(*, viewer, station_name: str, order_id: str) -> Order:
    """The station has seen the guest allergies of the order's items there: its card may be
    bumped from now on. Recorded in the history with who, as a change of the order (new `_v`;
    every screen redraws). Acknowledging again changes nothing. Raises Conflict for a card
    without guest allergies, Forbidden, NotFound."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, cells, _ = _locked_entry(session, viewer, station_name, order_id)
        entry = _station_entry(order, station_name)
        if entry.allergies_acknowledged_at is not None:
            return order
        allergies = _allergies_of(order, cells)
        if not allergies or order.is_void:
            raise Conflict(f"Order {order.number} has no guest allergy to acknowledge at "
                           f"{station_name}.")
        now = utcnow()
        entry.allergies_acknowledged_at = now
        order.version += 1
        order.last_saved_at = now
        history.record(order, "allergies acknowledged", user_name=viewer.user_name,
                       level="station", target=station_name, at=now,
                       detail=f"guest allergies seen at {station_name}: "
                              + ", ".join(A.labels(allergies)))
        return order


def _last_bumped(session, station: Station, skip: list[str]) -> str | None:
    """The order of the latest change to Completed made at this station (whole entry or one
    item) whose entry is still Completed."""
    entry = OrderEntry.__table__.alias("recall_entry")
    cell_prefix = f"{station.name} / "
    return session.scalar(
        select(OrderEvent.order_id)
        .join(Order, Order.id == OrderEvent.order_id)
        .join(entry, and_(entry.c.order_id == Order.id, entry.c.station_id == station.id))
        .where(OrderEvent.action == "status", OrderEvent.to_status == S.COMPLETED,
               or_(and_(OrderEvent.level == "station", OrderEvent.target == station.name),
                   and_(OrderEvent.level == "cell",
                        OrderEvent.target.startswith(cell_prefix, autoescape=True))),
               Order.deleted_at.is_(None), entry.c.processed_at.is_not(None),
               Order.id.not_in(skip) if skip else true(), entry.c.is_open == false(),
               exists().where(OrderCell.entry_id == entry.c.id,
                              OrderCell.status == S.COMPLETED))
        .order_by(OrderEvent.id.desc()).limit(1))


def recall_entry(*, viewer, station_name: str) -> Order:
    """Bring back the last card bumped at this station: its entry goes one stage back,
    Completed to Ready (contract 2.3). Raises NotFound when there is nothing to recall."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        station = session.scalar(select(Station).where(Station.name == station_name))
        if station is None:
            raise NotFound(f"No station named {station_name!r}.")
        skipped: list[str] = []
        for _ in range(5):
            order_id = _last_bumped(session, station, skipped)
            if order_id is None:
                break
            order, cells, owner = _locked_entry(session, viewer, station_name, order_id)
            # Found before the lock: another screen may have recalled it meanwhile.
            if S.aggregate(c.status for c in cells) == S.COMPLETED:
                order = order_status.set_entry_status(user=viewer, order_id=order.id,
                                                      station_name=station_name,
                                                      status=S.READY)
                events.add(order, event_types.ORDER_RECALLED, actor=viewer.user_name)
                return order
            skipped.append(order_id)
    raise NotFound(f"Nothing to recall: no card bumped at {station_name} is still completed.")


# --- the expo screen --------------------------------------------------------------------------

@dataclass(frozen=True)
class StationProgress:
    name: str
    status: str
    dispatched: bool
    done: int  # cells Ready or Completed
    live: int  # cells not Cancelled


@dataclass(frozen=True)
class ExpoCard:
    order: Order
    stations: list[StationProgress]
    waiting_courses: list[int] = field(default_factory=list)  # courses to fire

    @property
    def can_complete(self) -> bool:
        return self.order.status == S.READY

    @property
    def waiting_for(self) -> list[str]:
        return [s.name for s in self.stations if s.status in (S.NEW, S.PROCESSING)]


def get_expo_board(*, viewer) -> Board:
    """Every dispatched order not yet Completed or Cancelled, rush orders first, then oldest
    first, with each station's progress. Raises Forbidden."""
    require_screen(viewer, EXPO)
    version = history.change_counter()
    # The open statuses named, and said to be few (app.db.hints), rather than the finished ones
    # excluded: the few open orders are read through the status index and sorted,
    # instead of every order walked in creation order.
    where = and_(Order.deleted_at.is_(None), rare(Order.status.in_(OPEN)),
                 exists().where(OrderEntry.order_id == Order.id,
                                OrderEntry.processed_at.is_not(None)))
    total = db.session.scalar(select(func.count()).select_from(Order).where(where))
    found = db.session.scalars(
        select(Order).where(where)
        .order_by(Order.is_rush.desc(), Order.created_at, Order.number).limit(MAX_CARDS)
        .options(selectinload(Order.items), selectinload(Order.entries),
                 selectinload(Order.cells))).all()
    cards = []
    for order in found:
        progress = []
        for entry in order.entries:
            cells = [c for c in order.cells if c.entry_id == entry.id]
            live = [c for c in cells if c.status != S.CANCELLED]
            progress.append(StationProgress(
                name=entry.station.name, status=S.aggregate(c.status for c in cells),
                dispatched=entry.processed_at is not None, live=len(live),
                done=sum(c.status in (S.READY, S.COMPLETED) for c in live)))
        cards.append(ExpoCard(order=order, stations=progress,
                              waiting_courses=courses.waiting_courses(order)))
    return Board(target=EXPO, version=version, now=utcnow(), cards=cards, more=total - len(cards),
                 warn_minutes=DEFAULT_WARN_MINUTES, late_minutes=DEFAULT_LATE_MINUTES)


def can_fire(viewer) -> bool:
    return courses.may_fire(viewer)


def fire_course(*, viewer, order_id: str, course: int) -> Order:
    """The expo's Fire button: fire a course of an order (app.services.courses.fire_course).
    Raises Forbidden, NotFound, Conflict."""
    require_screen(viewer, EXPO)
    return courses.fire_course(user=viewer, order_id=order_id, course=course)


def complete_order(*, viewer, order_id: str) -> Order:
    """The expo's one tap: complete an order whose every station is Ready. Raises Conflict if
    one is not (any more), Forbidden, NotFound."""
    _require_change(viewer, EXPO)
    with write_transaction() as session:
        order = lock_visible_order(session, user=viewer, order_id=order_id)
        if order.status != S.READY:
            raise Conflict(f"Order {order.number} is {order.status}: it can be completed here "
                           "once every station has it Ready.")
        return order_status.set_order_status(user=viewer, order_id=order.id,
                                             status=S.COMPLETED)
