"""Station settings that change how the station's kiosk screens look.

`compact`: on or off (true/false, yes/no, 1/0, any case; off when absent): smaller cards, so a
busy station sees more orders at once on each page of its screen.
"""
COMPACT = "compact"
TRUE = frozenset({"true", "on", "yes", "1"})
FALSE = frozenset({"false", "off", "no", "0"})
HELP = {COMPACT: "on: smaller cards, more of them on each page"}


def check_screen_settings(settings: dict) -> list[str]:
    """Messages for the screen settings among `settings` that have a bad value; the other keys
    belong to others and pass."""
    value = settings.get(COMPACT)
    if value is None or (isinstance(value, str) and value.strip().lower() in TRUE | FALSE):
        return []
    return [f"{COMPACT} must be on or off (true/false, yes/no, 1/0), not {value!r}."]


def is_compact(settings: dict | None) -> bool:
    return str((settings or {}).get(COMPACT, "")).strip().lower() in TRUE
