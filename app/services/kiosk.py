"""Station kiosks: the cards a station's screen shows, and the taps on them.

Every change goes through app.services.order_status, so a kiosk obeys exactly the rules, locks
and history of the API. A screen is acted on by a signed-in User or by a KioskActor: the screen
a kiosk link signed in, which may view and bump its own station (or the expo screen) only.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, Forbidden, NotFound
from app.db.hints import rare
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, utcnow
from app.models.orders import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.services import history, order_status
from app.services.kiosk_links import EXPO, KioskActor
from app.services.orders import lock_visible_order
from app.services.stations import get_station

OPEN = order_status.OPEN  # still to do at a station: not Completed, not Cancelled
DEFAULT_WARN_MINUTES = 5
DEFAULT_LATE_MINUTES = 10
MAX_CARDS = 60  # more would not fit any screen; the rest are counted, not drawn


# --- who is looking ---------------------------------------------------------------------------

def require_screen(viewer, target: str) -> None:
    """May `viewer` look at the screen of `target` (a station name, or EXPO)? Raises Forbidden:
    a kiosk link sees its own screen only; a person needs a right that sees every order."""
    if isinstance(viewer, KioskActor):
        if viewer.target != target:
            screen = "the expo screen" if viewer.target == EXPO else viewer.target
            raise Forbidden(f"This screen's kiosk link is for {screen} only.")
        return
    if viewer is None or not R.sees_all_orders(viewer.rights):
        raise Forbidden("Kiosk screens need the orderRead right.")


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


# --- the station screen -----------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    item: OrderItem
    status: str
    next_status: str | None


@dataclass(frozen=True)
class Card:
    order: Order
    status: str
    next_status: str | None
    since: datetime
    lines: list[Line]


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


def next_stage(status: str) -> str | None:
    """The stage a tap moves to; None when there is none (Completed, Cancelled)."""
    if status not in S.STAGES or status == S.COMPLETED:
        return None
    return S.STAGES[S.STAGES.index(status) + 1]


def _minutes(settings: dict, key: str, default: int) -> int:
    try:
        return max(0, int(str((settings or {}).get(key, default)).strip()))
    except ValueError:
        return default


def _on_screen(station_id: int):
    """Dispatched entries of live orders at the station with something still to do.

    `is_open` (kept with the cells) rather than a look at the cells: the index on (station,
    is_open, processed_at) then yields the few open entries, where the cells would have to be
    read for every entry the station ever had."""
    return and_(OrderEntry.station_id == station_id, OrderEntry.is_open == true(),
                OrderEntry.processed_at.is_not(None), Order.deleted_at.is_(None))


def get_station_board(*, viewer, station_name: str, seen_version=None) -> Board | None:
    """The station's cards, oldest dispatch first, and its all-day counts; None when the
    screen's `seen_version` is still the current change counter (nothing to redraw).

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
        select(Order, OrderEntry.id, OrderEntry.processed_at)
        .join(OrderEntry, OrderEntry.order_id == Order.id)
        .where(_on_screen(station.id))
        .order_by(OrderEntry.processed_at, Order.number).limit(MAX_CARDS)).all()
    lines = _lines([entry_id for _, entry_id, _ in rows])
    cards = []
    for order, entry_id, since in rows:
        status = S.aggregate(line.status for line in lines[entry_id])
        cards.append(Card(order=order, status=status, next_status=next_stage(status),
                          since=since, lines=lines[entry_id]))
    return Board(target=station.name, version=version, now=utcnow(), cards=cards,
                 more=total - len(cards), all_day=_all_day(station.id),
                 warn_minutes=_minutes(station.settings, "warnAfterMinutes",
                                       DEFAULT_WARN_MINUTES),
                 late_minutes=_minutes(station.settings, "lateAfterMinutes",
                                       DEFAULT_LATE_MINUTES))


def _lines(entry_ids: list[int]) -> dict[int, list[Line]]:
    """The items of these station entries with their cells' statuses, in item order: one
    statement for the whole board, and only this station's cells."""
    lines = {entry_id: [] for entry_id in entry_ids}
    if not entry_ids:
        return lines
    rows = db.session.execute(
        select(OrderCell.entry_id, OrderCell.status, OrderItem)
        .join(OrderItem, OrderItem.id == OrderCell.item_id)
        .where(OrderCell.entry_id.in_(entry_ids))
        .order_by(OrderCell.entry_id, OrderItem.item_no)).all()
    for entry_id, status, item in rows:
        lines[entry_id].append(Line(item, status, next_stage(status)))
    return lines


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


def _locked_entry(session, viewer, station_name: str, order_id: str):
    """The order, locked, and its entry at the station, which must be on the station's screen."""
    order = lock_visible_order(session, user=viewer, order_id=order_id)
    entry = next((e for e in order.entries if e.station.name == station_name), None)
    if entry is None or entry.processed_at is None:
        raise NotFound(f"Order {order.number} is not on the {station_name} screen.")
    return order, [c for c in order.cells if c.entry_id == entry.id]


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
        order, cells = _locked_entry(session, viewer, station_name, order_id)
        cell = next((c for c in cells if c.item.item_no == item_id), None)
        if cell is None:
            raise NotFound(f"Order {order.number} has no item {item_id} at {station_name}.")
        _check_seen(f"Item {item_id}", cell.status, seen)
        target = next_stage(cell.status)
        if target is None:
            raise Conflict(f"Item {item_id} is {cell.status}; there is no next stage.")
        return order_status.set_cell_status(user=viewer, order_id=order.id, item_id=item_id,
                                            station_name=station_name, status=target)


def advance_entry(*, viewer, station_name: str, order_id: str,
                  seen: str | None = None) -> Order:
    """Move the station's part of the order one stage on. Items already past that stage keep
    their status (a plain entry-level set would take them back). Raises like advance_cell."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, cells = _locked_entry(session, viewer, station_name, order_id)
        current = S.aggregate(c.status for c in cells)
        _check_seen(f"Order {order.number}", current, seen)
        target = next_stage(current)
        if target is None:
            raise Conflict(f"Order {order.number} is {current} at {station_name}.")
        rank = S.STAGES.index
        live = [c for c in cells if c.status != S.CANCELLED]
        if all(rank(c.status) <= rank(target) for c in live):
            return order_status.set_entry_status(user=viewer, order_id=order.id,
                                                 station_name=station_name, status=target)
        for cell in [c for c in live if rank(c.status) < rank(target)]:
            order_status.set_cell_status(user=viewer, order_id=order.id,
                                         item_id=cell.item.item_no,
                                         station_name=station_name, status=target)
        return order


def bump_entry(*, viewer, station_name: str, order_id: str) -> Order:
    """Complete the station's part of the order: its card leaves the screen."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, _ = _locked_entry(session, viewer, station_name, order_id)
        return order_status.set_entry_status(user=viewer, order_id=order.id,
                                             station_name=station_name, status=S.COMPLETED)


def acknowledge_void(*, viewer, station_name: str, order_id: str) -> Order:
    """The station has seen a void order: its part is completed, and the history says who saw
    it. Raises Conflict for an order that is not void (those are bumped)."""
    _require_change(viewer, station_name)
    with write_transaction() as session:
        order, _ = _locked_entry(session, viewer, station_name, order_id)
        if not order.is_void:
            raise Conflict(f"Order {order.number} is not a void order; bump it instead.")
        order_status.set_entry_status(user=viewer, order_id=order.id,
                                      station_name=station_name, status=S.COMPLETED)
        history.record(order, "acknowledged", user_name=viewer.user_name, level="station",
                       target=station_name, detail=f"void order seen at {station_name}")
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
            order, cells = _locked_entry(session, viewer, station_name, order_id)
            # Found before the lock: another screen may have recalled it meanwhile.
            if S.aggregate(c.status for c in cells) == S.COMPLETED:
                return order_status.set_entry_status(user=viewer, order_id=order.id,
                                                     station_name=station_name, status=S.READY)
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

    @property
    def can_complete(self) -> bool:
        return self.order.status == S.READY

    @property
    def waiting_for(self) -> list[str]:
        return [s.name for s in self.stations if s.status in (S.NEW, S.PROCESSING)]


def get_expo_board(*, viewer) -> Board:
    """Every dispatched order not yet Completed or Cancelled, oldest first, with each station's
    progress. Raises Forbidden."""
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
        select(Order).where(where).order_by(Order.created_at, Order.number).limit(MAX_CARDS)
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
        cards.append(ExpoCard(order=order, stations=progress))
    return Board(target=EXPO, version=version, now=utcnow(), cards=cards, more=total - len(cards),
                 warn_minutes=DEFAULT_WARN_MINUTES, late_minutes=DEFAULT_LATE_MINUTES)


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
