"""Small helpers shared by the services."""
from dataclasses import dataclass

from app.core.errors import VersionMismatch


@dataclass(frozen=True)
class Outcome:
    """What one order of a batch came to: "changed", "unchanged" or "refused", and why."""
    order_id: str
    number: int | None
    result: str
    message: str


def check_version(current: int, expected: int | None) -> None:
    """Refuse a write that names an older version; a write naming none applies to the current."""
    if expected is not None and expected != current:
        raise VersionMismatch(current, expected)
