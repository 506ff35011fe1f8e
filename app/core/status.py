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
