"""JSON output: decimals as JSON numbers (Flask's default writes them as strings)."""
import json
from datetime import datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider


def _default(value):
    if isinstance(value, Decimal):
        # Amounts are stored as decimals and quantised before output, so the float
        # carries exactly the digits the decimal had.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    return DefaultJSONProvider.default(value)


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class OrdersJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", _default)
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(obj, **kwargs)
