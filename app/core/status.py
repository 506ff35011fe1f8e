"""The status model of contract 2.3: one enum for cells, items, station entries and orders."""
NEW = "New"
PROCESSING = "Processing"
READY = "Ready"
COMPLETED = "Completed"
CANCELLED = "Cancelled"

STAGES = (NEW, PROCESSING, READY, COMPLETED)
ALL = STAGES + (CANCELLED,)
_RANK = {name: rank for rank, name in enumerate(STAGES)}
_CANONICAL = {name.lower(): name for name in ALL}


def canonical(name) -> str | None:
    if not isinstance(name, str):
        return None
    return _CANONICAL.get(name.strip().lower())


def aggregate(statuses) -> str:
    """Cancelled if every cell is cancelled, else the lowest stage among the others."""
    live = [s for s in statuses if s != CANCELLED]
    if not live:
        return CANCELLED
    return min(live, key=_RANK.__getitem__)


def move_allowed(current: str, target: str) -> bool:
    """Forward by any number of stages, back by one, anything to Cancelled; Cancelled is final."""
    if current == CANCELLED:
        return target == CANCELLED
    if target == CANCELLED:
        return True
    return _RANK[target] >= _RANK[current] - 1


def allowed_moves(statuses) -> list[str]:
    """What a level (order, item, station entry) whose cells hold `statuses` may be set to now,
    in stage order with Cancelled last: the targets every non-cancelled cell may move to,
    without the one they all hold already (setting it would change nothing). Empty when every
    cell is cancelled: Cancelled is final."""
    live = {s for s in statuses if s != CANCELLED}
    if not live:
        return []
    return [target for target in ALL
            if live != {target} and all(move_allowed(s, target) for s in live)]


def next_step(statuses) -> str | None:
    """The move a person most likely makes next on a level: the first allowed stage after the
    level's own status (its lowest live cell) that moves no cell back, so one press never
    undoes work done further along (cells New and Ready: Ready, not Processing). None once it
    is Completed or Cancelled."""
    current = aggregate(statuses)
    if current == CANCELLED:
        return None
    furthest = max(_RANK[s] for s in statuses if s != CANCELLED)
    return next((target for target in allowed_moves(statuses) if target != CANCELLED
                 and _RANK[target] > _RANK[current] and _RANK[target] >= furthest), None)
