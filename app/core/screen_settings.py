"""Station settings that change how the station's kiosk screens look (described, with their
rules, in app.core.station_settings).

`compact`: on or off (true/false, yes/no, 1/0, any case; off when absent): smaller cards, so a
busy station sees more orders at once on each page of its screen.
"""
from app.core.station_settings import value_of

COMPACT = "compact"


def is_compact(settings: dict | None) -> bool:
    return value_of(settings, COMPACT)
