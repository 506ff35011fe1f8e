"""Small helpers shared by the services."""
from app.errors import VersionMismatch


def check_version(current: int, expected: int | None) -> None:
    """Refuse a write that names an older version; a write naming none applies to the current."""
    if expected is not None and expected != current:
        raise VersionMismatch(current, expected)
