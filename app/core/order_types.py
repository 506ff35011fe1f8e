"""Order types (contract 7): how the guest gets the order, which decides where its items go.

A ticket says its type (dine-in by default); a web-shop checkout is always `web`. A station may
take only some types (its setting `orderTypes`, comma-separated; absent: every type), so a
packing bench receives takeout and delivery items and nothing cooked for the tables.
"""
DINE_IN, TAKEOUT, DELIVERY, WEB = "dineIn", "takeout", "delivery", "web"
ALL = (DINE_IN, TAKEOUT, DELIVERY, WEB)
DEFAULT = DINE_IN
LABELS = {DINE_IN: "Dine in", TAKEOUT: "Takeout", DELIVERY: "Delivery", WEB: "Web"}
SETTING = "orderTypes"
_CANONICAL = {name.lower(): name for name in ALL}


def canonical(name) -> str | None:
    """The type's own spelling for a name in any case; None for anything else."""
    if not isinstance(name, str):
        return None
    return _CANONICAL.get(name.strip().lower())


def unknown_message(name) -> str:
    return f"Unknown order type {name!r}; use one of {', '.join(ALL)}."


def parse_setting(text) -> tuple[tuple[str, ...], list[str]]:
    """The types a station's `orderTypes` setting names, in the order of ALL, and a message per
    problem (an unknown name, or none at all)."""
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    problems = [unknown_message(name) for name in names if canonical(name) is None]
    if not names:
        problems.append(f"Name at least one order type ({', '.join(ALL)}), or leave the "
                        "setting out to take every type.")
    chosen = {canonical(name) for name in names}
    return tuple(t for t in ALL if t in chosen), problems


def station_types(settings: dict | None) -> tuple[str, ...]:
    """The types a station with these settings takes: every type unless it names some."""
    text = (settings or {}).get(SETTING)
    if text is None:
        return ALL
    types, problems = parse_setting(text)
    # Stored settings were checked when saved; one that is not readable limits nothing.
    return ALL if problems else types


def setting_value(types) -> str | None:
    """The `orderTypes` value for these types; None (no setting) when they are all of them."""
    chosen = tuple(t for t in ALL if t in set(types))
    return None if chosen == ALL else ",".join(chosen)
