"""Status changes (contract 2.3) on a whole order, one item, one station entry, or one cell."""
from sqlalchemy.orm import object_session

from app.core import event_types as T
from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from app.db.transactions import write_transaction
from app.models import User, utcnow
from app.models.orders import Order, OrderCell
from app.services import counts, courses, events, history
from app.services.common import Outcome, check_version
from app.services.orders import get_order, lock_visible_order

OPEN = (S.NEW, S.PROCESSING, S.READY)  # still to do at a station: not Completed, not Cancelled


def _target_status(name) -> str:
    status = S.canonical(name)
    if status is None:
        raise Invalid([FieldError("status", f"Unknown status {name!r}; use one of "
                                            f"{', '.join(S.ALL)}.")])
    return status


def _apply(order: Order, cells: list[OrderCell], target: str, *, user: User, level: str,
           label: str) -> bool:
    """Move every non-cancelled cell to `target`, or none of them. True if anything changed."""
    live = [c for c in cells if c.status != S.CANCELLED]
    if not live and target != S.CANCELLED:
        raise Conflict(f"The {level} is cancelled; Cancelled is final.")
    refused = sorted({c.status for c in live if not S.move_allowed(c.status, target)})
    if refused:
        raise Conflict(f"Cannot move the {level} from {', '.join(refused)} to {target}: "
                       "a status moves forward any number of stages, back one stage, "
                       "or to Cancelled.")
    changing = [c for c in live if c.status != target]
    if not changing:
        return False
    courses.refuse_held_start(order, changing, target)
    before = S.aggregate(c.status for c in cells)
    for cell in changing:
        cell.status = target
    _mark_open_entries(order, {c.entry_id for c in changing})
    now = utcnow()
    order_before, order.status = order.status, S.aggregate(c.status for c in order.cells)
    counts.move(object_session(order), order_before, order.status)
    history.record(order, "status", user_name=user.user_name, level=level, target=label,
                   from_status=before, to_status=S.aggregate(c.status for c in cells), at=now)
    events.add(order, T.STATUS_CHANGED[level], actor=user.user_name, at=now)
    if order.status != order_before and order.status in (S.COMPLETED, S.CANCELLED):
        events.add(order, T.ORDER_COMPLETED if order.status == S.COMPLETED else T.ORDER_CANCELLED,
                   actor=user.user_name, at=now)
    if target in courses.DONE:
        # The course this finished may let the next one fire by itself (autoFire).
        courses.fire_ready_courses(order, now=now)
    if order.status == S.COMPLETED:
        order.completed_at = order.completed_at or now
    else:
        order.completed_at = None
    # Ready boards show a number as Ready for some minutes from when it became Ready.
    if order.status != S.READY:
        order.ready_at = None
    elif order_before != S.READY:
        order.ready_at = now
    order.version += 1
    order.last_saved_at = now
    return True


def _mark_open_entries(order: Order, entry_ids: set[int]) -> None:
    """Keep each changed entry's `is_open` (what the station screens read) equal to what its
    cells say, in the same transaction; the order is locked, so no other writer races it."""
    for entry in order.entries:
        if entry.id in entry_ids:
            is_open = any(c.status in OPEN for c in order.cells if c.entry_id == entry.id)
            if entry.is_open != is_open:
                entry.is_open = is_open


def _change(user: User, order_id: str, status, version, level: str, pick) -> Order:
    if not R.has_right(user.rights, R.ORDER_UPDATE):
        raise Forbidden("Changing a status needs the orderUpdate right.")
    target = _target_status(status)
    with write_transaction() as session:
        order = lock_visible_order(session, user=user, order_id=order_id)
        check_version(order.version, version)
        cells, label = pick(order)
        _apply(order, cells, target, user=user, level=level, label=label)
    return order


def set_order_status(*, user: User, order_id: str, status, version: int | None = None) -> Order:
    """Set every non-cancelled cell of the order. Raises Invalid, Conflict, VersionMismatch."""
    return _change(user, order_id, status, version, "order",
                   lambda order: (list(order.cells), f"order {order.number}"))


def set_item_status(*, user: User, order_id: str, item_id: int, status,
                    version: int | None = None) -> Order:
    def pick(order):
        item = next((i for i in order.items if i.item_no == item_id), None)
        if item is None:
            raise NotFound(f"The order has no item {item_id}.")
        return ([c for c in order.cells if c.item_id == item.id],
                f"item {item_id} {item.name}"[:120])

    return _change(user, order_id, status, version, "item", pick)


def set_entry_status(*, user: User, order_id: str, station_name: str, status,
                     version: int | None = None) -> Order:
    def pick(order):
        entry = next((e for e in order.entries if e.station.name == station_name), None)
        if entry is None:
            raise NotFound(f"The order is not routed to {station_name!r}.")
        return [c for c in order.cells if c.entry_id == entry.id], station_name

    return _change(user, order_id, status, version, "station", pick)


def cell_label(station_name: str, item_no: int, item_name: str) -> str:
    """How a cell is named in the history. Station names never contain '/', so the part before
    " / " is always the station (the kiosk's recall looks for its own station's cells so)."""
    return f"{station_name} / item {item_no} {item_name}"[:120]


def set_cell_status(*, user, order_id: str, item_id: int, station_name: str, status,
                    version: int | None = None) -> Order:
    """Set one item's cell at one station (a kiosk's tap on an item), under the same rules and
    lock as the other levels; recorded with level "cell". `user` is a User or any actor with
    `rights` and `user_name` (a kiosk). Raises Forbidden, Invalid, NotFound, Conflict,
    VersionMismatch."""
    def pick(order):
        item = next((i for i in order.items if i.item_no == item_id), None)
        entry = next((e for e in order.entries if e.station.name == station_name), None)
        cell = next((c for c in order.cells if item and entry and c.item_id == item.id
                     and c.entry_id == entry.id), None)
        if cell is None:
            raise NotFound(f"The order has no item {item_id} at {station_name!r}.")
        return [cell], cell_label(station_name, item_id, item.name)

    return _change(user, order_id, status, version, "cell", pick)


def set_statuses(*, user: User, order_ids: list[str], status) -> list[Outcome]:
    """Set `status` on each order in its own transaction; one refusal does not stop the rest."""
    if not R.has_right(user.rights, R.ORDER_UPDATE):
        raise Forbidden("Changing a status needs the orderUpdate right.")
    target = _target_status(status)
    outcomes = []
    for order_id in dict.fromkeys(order_ids):
        number = None
        try:
            before = get_order(user=user, order_id=order_id)
            number, version = before.number, before.version
            order = set_order_status(user=user, order_id=order_id, status=target)
        except (Conflict, NotFound) as refused:
            outcomes.append(Outcome(order_id, number, "refused", refused.message))
            continue
        changed = order.version != version
        outcomes.append(Outcome(order_id, number, "changed" if changed else "unchanged",
                                f"now {order.status}" if changed else f"already {target}"))
    return outcomes
