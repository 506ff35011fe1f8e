"""Times as people read them. Everything is stored and served by the API in UTC (naive UTC in
the database, ISO 8601 with Z in JSON); pages show it in a time zone, named beside the time."""
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def zone_named(name) -> tzinfo | None:
    """The IANA time zone `name` (e.g. Europe/Amsterdam), or None when there is no such zone.
    UTC works even where the system has no time zone database."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC if name == "UTC" else None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every zone name a person may choose, sorted (the system's time zone database)."""
    names = {name for name in available_timezones()
             if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
    return tuple(sorted(names | {"UTC"}))


def to_local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored time (naive UTC, or aware) in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def day_start_utc(day: date, zone: tzinfo) -> datetime:
    """The moment `day` begins in `zone`, as naive UTC: how a local date filters stored times."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
