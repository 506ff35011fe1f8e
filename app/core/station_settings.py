"""Every setting a station has, described once (contract 2.2: `settings`, string to string).

Each description says the key, what the value is (on/off, a whole number in a range, one of a
few words, order types, a time zone), its default, and which station types read it. The same
description checks a value when a station is saved (app.services.stations), draws the station
form's field (app.web.admin) and writes the `settings` text of the API description
(app.api.schemas). Keys the hub does not know are kept and ignored.
"""
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core import order_types as OT

DISPLAY, PRINTER, WEBHOOK = "display", "printer", "webhook"
STATION_TYPES = (DISPLAY, PRINTER, WEBHOOK)
TRUE = frozenset({"true", "on", "yes", "1"})
FALSE = frozenset({"false", "off", "no", "0"})
FLAG, NUMBER, CHOICE, TYPES, ZONE = "flag", "number", "choice", "types", "zone"


@dataclass(frozen=True)
class StationSetting:
    key: str
    label: str
    kind: str  # FLAG (on/off), NUMBER (low..high), CHOICE (one of `choices`), TYPES, ZONE
    default: str  # TYPES: every order type
    help: str
    station_types: tuple[str, ...]
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    group: str = "Kiosk screens"

    @property
    def member(self) -> str:
        """The member an error about it names; orderTypes has been named on its own since it
        came, the others as `settings`."""
        return f"settings.{self.key}" if self.kind == TYPES else "settings"

    def applies_to(self, station_type: str) -> bool:
        return station_type in self.station_types

    def problems(self, value) -> list[str]:
        """What is wrong with `value` for this setting; empty if it is good."""
        if not isinstance(value, str):
            return [f"{self.key} must be a string, not {value!r}."]
        text = value.strip()
        if self.kind == FLAG and text.lower() not in TRUE | FALSE:
            return [f"{self.key} must be on or off (true/false, yes/no, 1/0), not {value!r}."]
        if self.kind == NUMBER and not (_whole(text) and self.low <= int(text) <= self.high):
            return [(f"{self.key} must be a whole number from {self.low} to {self.high}, "
                     f"not {value!r}.")]
        if self.kind == CHOICE and text.lower() not in self.choices:
            return [f"{self.key} is {' or '.join(self.choices)}."]
        if self.kind == TYPES:
            return OT.parse_setting(value)[1]
        if self.kind == ZONE:
            try:
                ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                return [(f"{self.key} must be an IANA time zone such as "
                         f"Europe/Amsterdam, not {value!r}.")]
        return []

    def is_default(self, value: str) -> bool:
        """Whether `value` means what leaving the setting out means."""
        text = value.strip()
        if self.kind == FLAG:
            return (text.lower() in TRUE) == (self.default in TRUE)
        if self.kind == TYPES:
            return OT.setting_value(OT.parse_setting(text)[0]) is None
        if self.kind in (CHOICE, NUMBER):
            return text.lower() == self.default.lower() or (
                self.kind == NUMBER and _whole(text) and int(text) == int(self.default))
        return text == self.default

    def read(self, settings: dict | None):
        """The value a station with these settings has: on/off as bool, numbers as int, the
        rest as text. A stored value that is not readable counts as the default."""
        value = (settings or {}).get(self.key)
        if value is None or self.problems(value):
            value = self.default
        text = value.strip()
        if self.kind == FLAG:
            return text.lower() in TRUE
        if self.kind == NUMBER:
            return int(text)
        if self.kind == CHOICE:
            return text.lower()
        return text

    def describe(self) -> str:
        """One line of the API description."""
        if self.kind == FLAG:
            values = f"on/off, default {self.default}"
        elif self.kind == NUMBER:
            values = f"{self.low} to {self.high}, default {self.default}"
        elif self.kind == CHOICE:
            values = f"{' or '.join(self.choices)}, default {self.default}"
        elif self.kind == TYPES:
            values = f"comma-separated from {', '.join(OT.ALL)}; every type by default"
        else:
            values = f"default {self.default}"
        return f"`{self.key}` ({values}): {self.help.rstrip('.')}"


def _whole(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _flag(key, label, default, help, types=(DISPLAY,), group="Kiosk screens"):
    return StationSetting(key, label, FLAG, default, help, types, group=group)


SETTINGS = (
    StationSetting("warnAfterMinutes", "Warn after (minutes)", NUMBER, "5",
                   "a card turns amber when its order has waited this long.", (DISPLAY,),
                   low=0, high=1440),
    StationSetting("lateAfterMinutes", "Late after (minutes)", NUMBER, "10",
                   "a card turns red when its order has waited this long.", (DISPLAY,),
                   low=0, high=1440),
    _flag("compact", "Compact cards", "off",
          "smaller cards, so a busy station sees more of them on each page."),
    StationSetting("courseFiring", "Courses", CHOICE, "together",
                   "together: every course is made at once; held: a later course is held "
                   "here until it is fired.", (DISPLAY,), choices=("together", "held")),
    StationSetting("autoFire", "Fire the next course by itself", CHOICE, "false",
                   "true: a held course fires by itself once every item of the course before "
                   "it is Ready.", (DISPLAY,), choices=("true", "false")),
    StationSetting(OT.SETTING, "Takes these orders", TYPES, ",".join(OT.ALL),
                   "items of orders of another type are not routed here (a packing bench "
                   "takes takeout and delivery).", STATION_TYPES, group="Routing"),
    _flag("beep", "Beep", "off", "sound the printer's buzzer when the slip prints.",
          (PRINTER,), "Printer"),
    _flag("largeNumber", "Large order number", "on",
          "print the order number in double width and height.", (PRINTER,), "Printer"),
    _flag("doubleSize", "Large item lines", "off",
          "print the item lines in double width and height.", (PRINTER,), "Printer"),
    _flag("cut", "Cut the paper", "on", "cut the paper after the slip.", (PRINTER,),
          "Printer"),
    StationSetting("width", "Characters per line", NUMBER, "42",
                   "characters per line at normal size.", (PRINTER,), low=24, high=64,
                   group="Printer"),
    StationSetting("timezone", "Time zone", ZONE, "UTC",
                   "IANA time zone of the printed time, e.g. Europe/Amsterdam.", (PRINTER,),
                   group="Printer"),
)
# The station form's sections, in order, and which stations each one is for.
GROUPS = {"Kiosk screens": "display stations", "Printer": "printer stations",
          "Routing": "every station"}
BY_KEY = {setting.key: setting for setting in SETTINGS}


def check_settings(settings: dict, station_type: str | None = None) -> list[tuple[str, str]]:
    """(member, message) for each known setting with a bad value. Every known key is checked
    whatever the station's type (a value saved now must still read when the type changes);
    unknown keys belong to others and pass."""
    return [(BY_KEY[key].member, message) for key, value in (settings or {}).items()
            if key in BY_KEY for message in BY_KEY[key].problems(value)]


def value_of(settings: dict | None, key: str):
    """The value of a known setting for a station with these settings (StationSetting.read)."""
    return BY_KEY[key].read(settings)


def settings_for(station_type: str) -> list[StationSetting]:
    return [s for s in SETTINGS if s.applies_to(station_type)]


def description() -> str:
    """The `settings` text of the API description."""
    parts = [("Key/value pairs; the keys below are checked on save, others are kept and "
              "ignored.")]
    for station_type in STATION_TYPES:
        lines = [s.describe() for s in SETTINGS if s.station_types == (station_type,)]
        if lines:
            parts.append(f"{station_type.capitalize()} stations: " + "; ".join(lines) + ".")
    shared = [s.describe() for s in SETTINGS if set(s.station_types) == set(STATION_TYPES)]
    parts.append("Any station: " + "; ".join(shared) + ".")
    return " ".join(parts)
