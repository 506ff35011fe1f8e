"""Courses that fire: a later course waits at the stations that hold courses until it is fired.

The rules (docs/decisions.md, "Courses"):
- An item is *fired* once its `fired_at` is set. When an order is created, its first course (the
  lowest course number among its items), its items without a course, every item of a void order
  and every item none of whose stations holds courses are fired at once; the other items wait.
- A station holds courses when its setting `courseFiring` is "held" ("together", the default,
  makes everything at once). There a New cell of an unfired item is *held*: it cannot be moved
  to Processing, Ready or Completed (cancelling it is allowed).
- Firing a course fires each of its unfired items. A person fires it (right orderProcess), or it
  fires by itself once every item of the previous course of the order is Ready (or further, or
  cancelled), when a station holding one of its items has the setting `autoFire` "true".
- Within one firing of a course, items start so that they finish together: an item's
  `start_at` is the firing time plus the course's longest prep time less its own.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core import event_types
from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.station_settings import value_of
from app.db.transactions import write_transaction
from app.models import utcnow
from app.services import events, history
from app.services.common import check_version
from app.services.orders import lock_visible_order

COURSE_FIRING, AUTO_FIRE = "courseFiring", "autoFire"
TOGETHER, HELD = "together", "held"
AUTO = "auto"  # who fired a course that fired by itself, in the history
DONE = (S.READY, S.COMPLETED, S.CANCELLED)  # an item of the previous course no longer waited for


def holds_courses(station) -> bool:
    """Whether the station holds later courses until they are fired (courseFiring "held")."""
    return value_of(station.settings, COURSE_FIRING) == HELD


def fires_by_itself(station) -> bool:
    return value_of(station.settings, AUTO_FIRE) == "true"


def first_course(items) -> int | None:
    """The order's first course: the lowest course number among its items (None if none has
    a course). It is fired when the order is created."""
    return min((i.course for i in items if i.course is not None), default=None)


def _start_times(items, now) -> None:
    """Fire `items` (one course, fired together) at `now`, each started so all finish
    together."""
    longest = max((i.prep_seconds or 0 for i in items), default=0)
    for item in items:
        item.fired_at = now
        item.start_at = now + timedelta(seconds=longest - (item.prep_seconds or 0))


def fire_new_order(items, stations_of: dict, *, is_void: bool, now) -> list[int]:
    """Fire what a new order fires at once (module doc) and answer the courses left waiting.
    `items` are the order's new items (with course and prep_seconds), `stations_of` the
    stations of each item by its number."""
    first = first_course(items)
    waiting = {i.item_no for i in items
               if not is_void and i.course is not None and i.course != first
               and any(holds_courses(s) for s in stations_of[i.item_no])}
    groups: dict = {}
    for item in items:
        if item.item_no not in waiting:
            groups.setdefault(item.course, []).append(item)
    for group in groups.values():
        _start_times(group, now)
    return sorted({i.course for i in items if i.item_no in waiting})


@dataclass(frozen=True)
class CourseState:
    """One course of an order, as the order page shows it."""
    course: int
    items: int
    fired_at: datetime | None  # None while one of its items waits to be fired


def course_states(order) -> list[CourseState]:
    """The order's courses in order, each with its item count and when it was fired."""
    states = []
    for course in sorted({i.course for i in order.items if i.course is not None}):
        items = [i for i in order.items if i.course == course]
        fired = [i.fired_at for i in items]
        states.append(CourseState(course, len(items),
                                  None if None in fired else max(fired)))
    return states


def waiting_courses(order) -> list[int]:
    """The order's courses with an item still waiting to be fired, in order."""
    return sorted({i.course for i in order.items if i.fired_at is None and i.course is not None})


def held_cells(order, cells) -> list:
    """Those of `cells` that are held now: New, of an unfired item, at a station holding
    courses."""
    holding = {e.id for e in order.entries if holds_courses(e.station)}
    candidates = [c for c in cells if c.status == S.NEW and c.entry_id in holding]
    if not candidates:
        return []
    unfired = {i.id for i in order.items if i.fired_at is None}
    return [c for c in candidates if c.item_id in unfired]


def refuse_held_start(order, cells, target: str) -> None:
    """Raise Conflict if moving `cells` to `target` would start a held item."""
    if target not in (S.PROCESSING, S.READY, S.COMPLETED):
        return
    held = held_cells(order, cells)
    if not held:
        return
    items = {i.id: i for i in order.items}
    stations = {e.id: e.station.name for e in order.entries}
    first = held[0]
    item = items[first.item_id]
    others = len({c.item_id for c in held}) - 1
    also = f" (and {others} more held item{'s' if others > 1 else ''})" if others else ""
    raise Conflict(f"Item {item.item_no} {item.name} is held at {stations[first.entry_id]} "
                   f"until course {item.course} is fired{also}: fire the course first. "
                   "Nothing was changed.")


def _fire(order, course: int, *, user_name: str, now, detail: str | None = None) -> int:
    """Fire the course's unfired items, record it, and answer how many fired."""
    items = [i for i in order.items if i.course == course and i.fired_at is None]
    _start_times(items, now)
    history.record(order, "fired", user_name=user_name, level="course",
                   target=f"course {course}", at=now,
                   detail=detail or f"{len(items)} item{'s' if len(items) != 1 else ''}")
    # A course that fired by itself was fired by no one.
    events.add(order, event_types.COURSE_FIRED, actor=None if user_name == AUTO else user_name,
               at=now)
    return len(items)


def fire_locked_course(order, course: int, *, user_name: str) -> None:
    """Fire a course of an order the caller holds locked. Raises NotFound for a course the
    order has no item of, Conflict when it is fired already or the order is cancelled."""
    if not any(i.course == course for i in order.items):
        raise NotFound(f"Order {order.number} has no course {course}.")
    if course not in waiting_courses(order):
        raise Conflict(f"Course {course} of order {order.number} is fired already.",
                       member_name="course")
    if order.status == S.CANCELLED:
        raise Conflict(f"Order {order.number} is cancelled; there is nothing to fire.",
                       member_name="course")
    now = utcnow()
    _fire(order, course, user_name=user_name, now=now)
    order.version += 1
    order.last_saved_at = now


def may_fire(actor) -> bool:
    return actor is not None and R.has_right(actor.rights, R.ORDER_PROCESS)


def fire_course(*, user, order_id: str, course: int, version: int | None = None):
    """Fire a course of a visible order: its held items may be started. `user` is a User or a
    screen (app.services.kiosk_links.KioskActor) with orderProcess. Moves `_v` and the change
    counter. Raises Forbidden, NotFound, VersionMismatch, Conflict (fired already)."""
    if not may_fire(user):
        raise Forbidden("Firing a course needs the orderProcess right.")
    with write_transaction() as session:
        order = lock_visible_order(session, user=user, order_id=order_id)
        check_version(order.version, version)
        fire_locked_course(order, course, user_name=user.user_name)
    return order


def fire_ready_courses(order, *, now) -> list[int]:
    """After a status change of a locked order: fire each waiting course whose previous course
    is done (every item Ready, Completed or Cancelled) and which a station holding one of its
    items fires by itself (autoFire). Answers the courses fired; the caller bumps `_v`."""
    # The stations first: most orders reach none that fires by itself, and need no more reads.
    auto_entries = {e.id for e in order.entries
                    if holds_courses(e.station) and fires_by_itself(e.station)}
    waiting = waiting_courses(order) if auto_entries else []
    if not waiting:
        return []
    status_of: dict = {}
    for cell in order.cells:
        status_of.setdefault(cell.item_id, []).append(cell.status)
    courses = sorted({i.course for i in order.items if i.course is not None})
    fired = []
    for course in waiting:
        earlier = [c for c in courses if c < course]
        if not earlier:
            continue
        previous = [i for i in order.items if i.course == earlier[-1]]
        if any(i.fired_at is None or S.aggregate(status_of.get(i.id, [])) not in DONE
               for i in previous):
            continue
        unfired = {i.id for i in order.items if i.course == course and i.fired_at is None}
        if not any(c.entry_id in auto_entries for c in order.cells if c.item_id in unfired):
            continue
        _fire(order, course, user_name=AUTO, now=now,
              detail=f"course {earlier[-1]} is ready")
        fired.append(course)
    return fired
