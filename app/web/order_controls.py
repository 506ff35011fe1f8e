"""The order page's status controls, worked out once per drawing: for the order, each station
and each item, its status, the one next step, the other moves allowed now (contract 2.3: forward
any number of stages, back one, anything to Cancelled), and where each control posts. A move the
cells do not allow is not offered at all, so a Cancelled level has no controls."""
from dataclasses import dataclass

from flask import url_for

from app.core import status as S
from app.web.admin import dom_id


@dataclass(frozen=True)
class Move:
    status: str
    label: str        # as its button says it: "Mark Ready", "Back to New", ...


@dataclass(frozen=True)
class Level:
    key: str          # where a message about this level is drawn: "order", "item-2", ...
    label: str        # as people and screen readers name it: "order 12", "Kitchen", ...
    subject: str      # what a cancellation asks about: "order 12 at Kitchen", ...
    status: str
    next: Move | None  # the primary button
    others: tuple[Move, ...]  # secondary: the other allowed moves but Cancelled
    can_cancel: bool  # behind a confirmation
    action: str       # the status form's address
    cancel: str       # the cancel confirmation page's address


@dataclass(frozen=True)
class OrderControls:
    order: Level
    stations: dict[int, Level]  # by entry id
    items: dict[int, Level]     # by item id
    cells: dict[tuple[int, int], str]  # (item id, entry id) -> status


def move_label(statuses: list[str], target: str) -> str:
    """A move as a button says it, by what it does to the level's cells: all forward is a step
    on, all back an undo; a level whose cells differ may see some go each way."""
    ranks = [S.STAGES.index(s) for s in statuses if s != S.CANCELLED]
    rank = S.STAGES.index(target)
    if rank >= max(ranks):
        return f"Mark {target}"
    if rank <= min(ranks):
        return f"Back to {target}"
    return f"Set all to {target}"


def _level(key: str, label: str, subject: str, statuses: list[str], action: str,
           cancel: str) -> Level:
    allowed = S.allowed_moves(statuses)
    step = S.next_step(statuses)
    return Level(key=key, label=label, subject=subject, status=S.aggregate(statuses),
                 next=Move(step, move_label(statuses, step)) if step else None,
                 others=tuple(Move(t, move_label(statuses, t)) for t in allowed
                              if t not in (step, S.CANCELLED)),
                 can_cancel=S.CANCELLED in allowed, action=action, cancel=cancel)


def order_controls(order) -> OrderControls:
    cells = {(c.item_id, c.entry_id): c.status for c in order.cells}
    whole = _level("order", f"order {order.number}", f"order {order.number}",
                   list(cells.values()),
                   url_for("orders.set_order_status", order_id=order.id),
                   url_for("orders.confirm_cancel", order_id=order.id))
    stations = {
        entry.id: _level(
            station_key(entry.station.name), entry.station.name,
            f"order {order.number} at {entry.station.name}",
            [s for (_, entry_id), s in cells.items() if entry_id == entry.id],
            url_for("orders.set_station_status", order_id=order.id,
                    station_name=entry.station.name),
            url_for("orders.confirm_cancel", order_id=order.id, station=entry.station.name))
        for entry in order.entries}
    items = {
        item.id: _level(
            item_key(item.item_no), f"item {item.item_no} {item.name}",
            f"item {item.item_no} {item.name} of order {order.number}",
            [s for (item_id, _), s in cells.items() if item_id == item.id],
            url_for("orders.set_item_status", order_id=order.id, item_id=item.item_no),
            url_for("orders.confirm_cancel", order_id=order.id, item=item.item_no))
        for item in order.items}
    return OrderControls(whole, stations, items, cells)


def station_key(name: str) -> str:
    return f"station-{dom_id(name)}"


def item_key(item_no: int) -> str:
    return f"item-{item_no}"
