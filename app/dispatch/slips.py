"""An order slip rendered to ESC/POS bytes for a station's network printer.

python-escpos writes the commands and picks code pages for non-ASCII text; its `Dummy` printer
only collects the bytes, so rendering never touches the network and sending stays in senders.
"""
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.core import station_settings


@dataclass(frozen=True)
class SlipLine:
    quantity: Decimal
    name: str
    note: str | None = None
    course: int | None = None
    modifiers: tuple[str, ...] = ()  # as people say them: "2 x Extra cheese"
    allergies: tuple[str, ...] = ()  # the guest's, named: "Milk"
    contains: tuple[str, ...] = ()  # those of them the product contains


@dataclass(frozen=True)
class Slip:
    number: int
    station: str
    label: str | None
    at: datetime  # naive UTC
    lines: tuple[SlipLine, ...]
    note: str | None = None
    is_void: bool = False
    is_reprint: bool = False
    is_rush: bool = False
    order_type: str | None = None  # as people say it: "Takeout"


# The printer's settings, with their defaults, help and rules: app.core.station_settings.
SETTINGS = {s.key: s for s in station_settings.settings_for(station_settings.PRINTER)
            if s.station_types == (station_settings.PRINTER,)}

# python-escpos sends a whole text as GB18030 when it holds one of these, garbling the rest of
# the line on any printer without a Chinese font; replacing them keeps the line readable.
CJK = re.compile(r"[\u4e00-\u9fa5]")


@dataclass(frozen=True)
class Options:
    beep: bool
    large_number: bool
    double_size: bool
    cut: bool
    width: int
    zone: ZoneInfo


def check_settings(settings: dict[str, str]) -> list[str]:
    """Messages for known settings with bad values; unknown keys belong to others and pass."""
    return _read(settings)[1]


def render_slip(slip: Slip, settings: dict[str, str]) -> bytes:
    """The slip as ESC/POS bytes. Raises ValueError when a known setting has a bad value."""
    options, errors = _read(settings)
    if errors:
        raise ValueError("; ".join(errors))
    # Imported here so that web processes which never print do not load python-escpos.
    from escpos.printer import Dummy

    printer = Dummy()
    printer.hw("INIT")
    _print_header(printer, slip, options)
    _print_items(printer, slip, options)
    _print_footer(printer, slip, options)
    return printer.output


def _print_header(printer, slip: Slip, options: Options) -> None:
    if slip.is_reprint:
        printer.set(align="center", bold=True, double_width=True, double_height=True)
        printer.textln("REPRINT")
    if slip.is_void:
        # Inverted and large, so nobody starts cooking a cancellation.
        printer.set(align="center", bold=True, invert=True, double_width=True,
                    double_height=True)
        printer.textln("VOID")
        # ESC ! (the size command) also clears bold, so bold is set again with every size.
        printer.set(normal_textsize=True, bold=True)
        printer.textln("*** CANCELLATION ***")
        printer.textln("DO NOT MAKE")
        printer.set(invert=False)
    if slip.is_rush:
        # Large and inverted like VOID: a word, not only a look, so it reads on any paper.
        printer.set(align="center", bold=True, invert=True, double_width=True,
                    double_height=True)
        printer.textln("RUSH")
        printer.set(invert=False)
    printer.set(align="center", bold=True, normal_textsize=True)
    _write(printer, _wrap(slip.station, options.width))
    if options.large_number:
        printer.set(bold=True, double_width=True, double_height=True)
    printer.textln(f"#{slip.number}")
    printer.set(bold=False, normal_textsize=True)
    if slip.order_type:
        printer.set(bold=True)
        _write(printer, _wrap(slip.order_type.upper(), options.width))
        printer.set(bold=False)
    if slip.label:
        _write(printer, _wrap(slip.label, options.width))
    printer.textln(_local_time(slip.at, options.zone))
    printer.set(align="left")
    printer.textln("-" * options.width)


def _print_items(printer, slip: Slip, options: Options) -> None:
    width = options.width
    if options.double_size:
        printer.set(double_width=True, double_height=True)
        width //= 2  # each character takes two columns
    for line in slip.lines:
        first = f"{_quantity(line.quantity, slip.is_void)} x "
        _write(printer, _wrap(line.name, width, first, " " * len(first)))
        for modifier in line.modifiers:
            _write(printer, _wrap(modifier, width, "  + ", "    "))
        if line.course is not None:
            printer.textln(f"  course {line.course}")
        if line.note:
            _write(printer, _wrap(line.note, width, "  note: ", "    "))
        if line.allergies:
            # Inverted like VOID and RUSH, and in words: a receipt printer has no red.
            printer.set(bold=True, invert=True)
            _write(printer, _wrap("ALLERGY: " + ", ".join(line.allergies).upper(), width))
            printer.set(bold=False, invert=False)
            if line.contains:
                _write(printer, _wrap("contains " + ", ".join(line.contains), width,
                                      "  ", "  "))
    printer.set(normal_textsize=True)


def _print_footer(printer, slip: Slip, options: Options) -> None:
    if slip.note:
        printer.textln("-" * options.width)
        printer.set(bold=True)
        _write(printer, _wrap(slip.note, options.width, "Order note: ", "  "))
        printer.set(bold=False)
    if slip.is_void:
        printer.textln("-" * options.width)
        printer.set(align="center", bold=True, invert=True)
        printer.textln("*** CANCELLATION ***")
        printer.set(align="left", bold=False, invert=False)
    if options.beep:
        printer.buzzer(times=2, duration=3)
    if options.cut:
        printer.cut()  # feeds the slip past the blade first
    else:
        printer.print_and_feed(4)  # past the tear bar


def _read(settings: dict[str, str]) -> tuple[Options, list[str]]:
    known = {key: value for key, value in settings.items() if key in SETTINGS}
    errors = [message for _, message in station_settings.check_settings(known)]
    value = {key: setting.read(known) for key, setting in SETTINGS.items()}
    options = Options(beep=value["beep"], large_number=value["largeNumber"],
                      double_size=value["doubleSize"], cut=value["cut"], width=value["width"],
                      zone=ZoneInfo(value["timezone"]))
    return options, errors


def _local_time(at: datetime, zone: ZoneInfo) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}"


def _quantity(quantity: Decimal, is_void: bool) -> str:
    quantity = Decimal(str(quantity))  # an int or float from a caller still prints plainly
    # "f" keeps 10 from becoming 1E+1 after normalize().
    text = format(abs(quantity).normalize(), "f")
    return f"-{text}" if is_void or quantity < 0 else text


def _clean(text: str) -> str:
    # Names and notes come from customers; a control byte in them would reach the printer as a
    # command (cut, open the cash drawer), so every control character becomes a space.
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return CJK.sub("?", " ".join(text.split()))


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """Each line of the text wrapped to the width; the first output line starts with `first`."""
    out = []
    # Only line feeds break lines: splitlines() would also break at GS and FS bytes.
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        indent = rest if out else first
        wrapped = textwrap.wrap(_clean(paragraph), width, initial_indent=indent,
                                subsequent_indent=rest, break_on_hyphens=False)
        out.extend(wrapped or [indent.rstrip()])
    return out


def _write(printer, lines: list[str]) -> None:
    for line in lines:
        printer.textln(line)
