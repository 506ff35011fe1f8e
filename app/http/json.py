"""JSON in and out, with decimals exact both ways.

Amounts and quantities are Decimals from the database to the wire and back. Python's json module
cannot write a number it does not know (a Decimal) other than through a float, which rounds
1234567890123.4567 to ...4568, so answers are written with simplejson, whose RawJSON puts the
Decimal's own digits in the text. Reading, json's parse_float=Decimal keeps every digit a client
sent. docs/money.md has the reasons in full.
"""
import json
from datetime import datetime
from decimal import Decimal

import simplejson
from flask.json.provider import DefaultJSONProvider

# Request bodies are a few levels deep (a ticket's items are at three). A deeper document is
# refused before anything walks it: the parser itself, and every recursive walk after it (the
# NUL check, pydantic, the request fingerprint), would otherwise meet Python's recursion limit.
MAX_DEPTH = 32
# A JSON number whose exponent is beyond this is refused: no amount comes near it, and turning
# 1e100000000 into an integer (pydantic does for an int member) would take minutes.
MAX_EXPONENT = 1000


def decimal_text(value: Decimal) -> str:
    """The Decimal as a JSON number with its exact digits: 12.5000 as 12.5, 100 as 100 (not
    1E+2), never through a float."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    text = format(value, "f")  # 'f' with no precision never rounds
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _default(value):
    if isinstance(value, Decimal):
        return simplejson.RawJSON(decimal_text(value))
    if isinstance(value, datetime):
        return format_datetime(value)
    return DefaultJSONProvider.default(value)


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise ValueError(f"A number is out of range: its exponent is beyond {MAX_EXPONENT}.")
    return value


def _no_constant(name: str):
    # json accepts NaN and Infinity, which are not JSON (RFC 8259) and no amount can be.
    raise ValueError(f"{name} is not a JSON value.")


def _too_deep(document) -> bool:
    """Whether arrays and objects nest more than MAX_DEPTH levels; walked without recursion."""
    pending = [(document, 1)] if isinstance(document, (dict, list)) else []
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children
                       if isinstance(child, (dict, list)))
    return False


class OrdersJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", _default)
        kwargs.setdefault("ensure_ascii", False)
        # Decimals go through _default (use_decimal would write 12.5000 as it is stored), and
        # named tuples are arrays, as json writes them.
        return simplejson.dumps(obj, use_decimal=False, namedtuple_as_object=False, **kwargs)

    def loads(self, s, **kwargs):
        """Parse JSON with every number exact (a Decimal, or an int); ValueError for what is
        not JSON, too deep, or a number out of range. Every request body is read here
        (request.get_json), so each gets these rules."""
        kwargs.setdefault("parse_float", _decimal)
        kwargs.setdefault("parse_constant", _no_constant)
        try:
            document = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"Arrays and objects nest more than {MAX_DEPTH} levels.") from None
        if _too_deep(document):
            raise ValueError(f"Arrays and objects nest more than {MAX_DEPTH} levels.")
        return document
