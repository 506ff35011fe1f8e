"""The app's JSON reader and writer (app.http.json): decimals exact both ways, and documents
that are not JSON, too deep or out of range refused with a ValueError."""
from datetime import datetime
from decimal import Decimal

import pytest

from app.http.json import MAX_DEPTH, decimal_text
from tests.conftest import make_app


@pytest.fixture(scope="module")
def provider():
    return make_app("sqlite://").json


@pytest.mark.parametrize("value,text", [
    ("1234567890123.4567", "1234567890123.4567"),  # a float writes ...4568
    ("98765432109876.54", "98765432109876.54"),
    ("12.5000", "12.5"), ("100", "100"), ("100.0000", "100"), ("1E+2", "100"),
    ("0.0001", "0.0001"), ("1E-7", "0.0000001"), ("-12.50", "-12.5"), ("-0.0000", "0"),
    ("0", "0"), ("0.333", "0.333"),
])
def test_a_decimal_is_written_with_its_own_digits(provider, value, text):
    assert decimal_text(Decimal(value)) == text
    assert provider.dumps({"a": Decimal(value)}, separators=(",", ":")) == f'{{"a":{text}}}'


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_decimal_that_is_not_a_number_is_not_written(provider, value):
    with pytest.raises(ValueError):
        provider.dumps({"a": Decimal(value)})


def test_everything_else_is_written_as_before(provider):
    text = provider.dumps({"n": 3, "f": 0.5, "s": "Straße", "t": (1, 2), "none": None,
                           "at": datetime(2026, 11, 1, 8, 0, 0, 123000)},
                          separators=(",", ":"))
    assert text == ('{"n":3,"f":0.5,"s":"Straße","t":[1,2],"none":null,'
                    '"at":"2026-11-01T08:00:00.123Z"}')
    assert provider.dumps({"a": [Decimal("1.50")]}, indent=2) == '{\n  "a": [\n    1.5\n  ]\n}'


def test_numbers_are_read_exactly(provider):
    document = provider.loads('{"price": 1234567890123.4567, "n": 2, "e": 1e3, "q": 0.333}')
    assert document == {"price": Decimal("1234567890123.4567"), "n": 2, "e": Decimal("1E+3"),
                        "q": Decimal("0.333")}
    assert isinstance(document["n"], int)
    assert provider.loads(b'[12.50]') == [Decimal("12.50")]


@pytest.mark.parametrize("text", [
    "[NaN]", "[Infinity]", "[-Infinity]",  # not JSON, though Python's json accepts them
    "[1e1001]", "[1e-1001]",  # beyond any amount, and slow to turn into an integer
    "[" * 5000 + "]" * 5000,  # beyond Python's recursion limit
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    '{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
    "[1,", b"\xff",
])
def test_what_is_not_json_too_deep_or_out_of_range_is_a_value_error(provider, text):
    with pytest.raises(ValueError):
        provider.loads(text)


def test_documents_up_to_the_depth_limit_are_read(provider):
    deepest = "[" * MAX_DEPTH + "1e1000" + "]" * MAX_DEPTH
    value = provider.loads(deepest)
    for _ in range(MAX_DEPTH):
        (value,) = value
    assert value == Decimal("1E+1000")
    assert provider.loads('{"a": [0e-5000]}') == {"a": [Decimal("0E-5000")]}
