"""Unit tests for the NData query parser (contract 4.2) and its SQL translation."""
import contextlib
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    create_engine,
    select,
)
from werkzeug.datastructures import MultiDict

from app.core.errors import Invalid
from app.core.query import (
    Condition,
    Member,
    Query,
    QuerySpec,
    SortKey,
    condition_clause,
    parse_query,
)

STATUSES = ("New", "Processing", "Ready", "Completed", "Cancelled")
SPEC = QuerySpec(
    members=(
        Member("number", "int"),
        Member("orderTotal", "decimal"),
        Member("isVoid", "bool"),
        Member("createdDateUtc", "datetime"),
        Member("status", "enum", STATUSES),
        Member("ticketName", "string"),
        Member("id", "uuid"),
        Member("endpointName", "string", sortable=False),
        Member("secret", "string", filterable=False),
    ),
    includes=("history",),
)
UUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
ALL_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "nin",
           "contains", "startswith", "endswith")
ALLOWED = {
    "number": ALL_OPS[:8],
    "orderTotal": ALL_OPS[:8],
    "createdDateUtc": ALL_OPS[:8],
    "ticketName": ALL_OPS,
    "status": ("eq", "neq", "in", "nin"),
    "id": ("eq", "neq", "in", "nin"),
    "isVoid": ("eq", "neq"),
}
SAMPLE = {  # one valid argument per member, and its parsed value
    "number": ("42", 42),
    "orderTotal": ("12.50", Decimal("12.50")),
    "createdDateUtc": ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, 0)),
    "ticketName": ("Table 5", "Table 5"),
    "status": ("ready", "Ready"),
    "id": (UUID.upper(), UUID),
    "isVoid": ("TRUE", True),
}


def parse(*pairs) -> Query:
    return parse_query(MultiDict(list(pairs)), SPEC)


def errors_of(*pairs):
    with pytest.raises(Invalid) as info:
        parse(*pairs)
    return info.value.errors


def only_condition(*pairs) -> Condition:
    (condition,) = parse(*pairs).conditions
    return condition


# --- defaults and $ options ------------------------------------------------------------------

def test_defaults():
    assert parse() == Query((), (), 0, 100, False, frozenset())


def test_spec_default_and_max_take():
    spec = QuerySpec(members=(), default_take=7, max_take=10)
    assert parse_query(MultiDict(), spec).take == 7
    assert parse_query(MultiDict([("$take", "10")]), spec).take == 10
    with pytest.raises(Invalid):
        parse_query(MultiDict([("$take", "11")]), spec)


@pytest.mark.parametrize("name", ["$skip", "$SKIP", "$Skip"])
def test_skip(name):
    assert parse((name, "25")).skip == 25
    assert parse((name, "0")).skip == 0


@pytest.mark.parametrize("name", ["$take", "$Take", "$TAKE"])
def test_take(name):
    assert parse((name, "0")).take == 0
    assert parse((name, "1000")).take == 1000


@pytest.mark.parametrize("pair", [
    ("$skip", "-1"), ("$skip", "abc"), ("$skip", ""), ("$skip", "1.5"),
    ("$skip", "99999999999999999999999"),
    ("$take", "1001"), ("$take", "-1"), ("$take", "ten"), ("$take", ""),
    ("$count", "yes"), ("$count", "1"), ("$count", ""),
])
def test_bad_option_values(pair):
    (error,) = errors_of(pair)
    assert error.member_name == pair[0]
    assert error.code == "invalid"


def test_take_error_says_what_is_accepted():
    (error,) = errors_of(("$take", "5000"))
    assert "'5000'" in error.message and "0 to 1000" in error.message


@pytest.mark.parametrize("value,expected", [("true", True), ("TRUE", True), ("False", False)])
def test_count(value, expected):
    assert parse(("$Count", value)).count is expected


@pytest.mark.parametrize("name", ["$skip", "$take", "$count"])
def test_single_options_given_twice(name):
    value = "true" if name == "$count" else "1"
    (error,) = errors_of((name, value), (name.upper(), value))
    assert error.member_name == name
    (error,) = errors_of((name, value), (name, value), (name, value))
    assert error.member_name == name


def test_unknown_option_names_raw_parameter():
    (error,) = errors_of(("$Filter", "x"))
    assert error.member_name == "$Filter"
    assert "$skip" in error.message


def test_include():
    assert parse(("$include", "history")).include == {"history"}
    assert parse(("$INCLUDE", "History")).include == {"history"}
    assert parse(("$include", "history, HISTORY")).include == {"history"}


@pytest.mark.parametrize("value", ["items", "", "history,", "history,foo"])
def test_bad_include(value):
    (error,) = errors_of(("$include", value))
    assert error.member_name == "$include"
    assert "history" in error.message


# --- $sort -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("number", [SortKey("number", False)]),
    ("number:asc", [SortKey("number", False)]),
    ("number:desc", [SortKey("number", True)]),
    ("NUMBER:DESC", [SortKey("number", True)]),
    ("-number", [SortKey("number", True)]),
    ("-createddateutc,status:asc", [SortKey("createdDateUtc", True), SortKey("status", False)]),
    ("number, -status", [SortKey("number", False), SortKey("status", True)]),
    ("number:desc,NUMBER:asc,-number", [SortKey("number", True)]),
])
def test_sort_forms(value, expected):
    assert list(parse(("$sort", value)).sort) == expected


def test_repeated_sort_params_concatenate_first_wins():
    query = parse(("$sort", "-number,status"), ("$sort", "ticketName,number:asc"))
    assert query.sort == (SortKey("number", True), SortKey("status", False),
                          SortKey("ticketName", False))


@pytest.mark.parametrize("value", [
    "nope", "endpointName", "number:up", "-number:desc", "", "number,", ",number", "-", ":desc",
])
def test_bad_sort(value):
    errors = errors_of(("$sort", value))
    assert errors and all(e.member_name == "$sort" for e in errors)


def test_sort_error_lists_sortable_keys_only():
    (error,) = errors_of(("$sort", "endpointName"))
    accepted = error.message.split("use one of", 1)[1]
    assert "number" in accepted and "endpointName" not in accepted


def test_non_filterable_member_is_still_sortable():
    assert parse(("$sort", "secret")).sort == (SortKey("secret", False),)


# --- filters: operators per type -------------------------------------------------------------

@pytest.mark.parametrize("member,op", [(m, op) for m, ops in ALLOWED.items() for op in ops])
def test_allowed_operators(member, op):
    text, value = SAMPLE[member]
    if op in ("in", "nin"):
        condition = only_condition((member, f"{op}:{text},{text}"))
        assert condition == Condition(member, op, (value, value))
    else:
        assert only_condition((member, f"{op}:{text}")) == Condition(member, op, value)


@pytest.mark.parametrize("member,op", [
    (m, op) for m, ops in ALLOWED.items() for op in ALL_OPS if op not in ops
])
def test_refused_operators(member, op):
    (error,) = errors_of((member, f"{op}:{SAMPLE[member][0]}"))
    assert error.member_name == member
    assert f"'{op}'" in error.message and ALLOWED[member][0] in error.message


@pytest.mark.parametrize("member", list(ALLOWED))
def test_bare_value_means_eq(member):
    text, value = SAMPLE[member]
    assert only_condition((member, text)) == Condition(member, "eq", value)


@pytest.mark.parametrize("raw", ["GT:5", "Gt:5", "gt:5"])
def test_operators_are_case_insensitive(raw):
    assert only_condition(("number", raw)) == Condition("number", "gt", 5)


@pytest.mark.parametrize("name", ["NUMBER", "Number", "nUmBeR"])
def test_member_names_are_case_insensitive(name):
    assert only_condition((name, "5")).member == "number"


def test_semicolon_and_repeated_members_are_anded():
    expected = (Condition("number", "gt", 10), Condition("number", "lt", 20))
    assert parse(("number", "gt:10;lt:20")).conditions == expected
    assert parse(("number", "gt:10"), ("number", "lt:20")).conditions == expected
    assert parse(("number", "gt:10"), ("Number", "lt:20")).conditions == expected


@pytest.mark.parametrize("raw", ["null", "NULL", "eq:null", "EQ:Null"])
def test_null_eq(raw):
    assert only_condition(("createdDateUtc", raw)) == Condition("createdDateUtc", "eq", None)


@pytest.mark.parametrize("member", list(ALLOWED))
def test_null_tests_on_every_type(member):
    assert only_condition((member, "neq:null")) == Condition(member, "neq", None)
    assert only_condition((member, "null")) == Condition(member, "eq", None)


@pytest.mark.parametrize("raw", ["in:null", "in:1,null", "nin:NULL", "gt:null"])
def test_null_refused_elsewhere(raw):
    (error,) = errors_of(("number", raw))
    assert error.member_name == "number"


def test_in_and_nin():
    assert only_condition(("number", "in:1,2,3")) == Condition("number", "in", (1, 2, 3))
    assert only_condition(("status", "NIN:new,CANCELLED")) == Condition(
        "status", "nin", ("New", "Cancelled"))
    assert only_condition(("ticketName", "in:a b,c:d")) == Condition(
        "ticketName", "in", ("a b", "c:d"))


@pytest.mark.parametrize("raw", ["in:", "in:1,", "in:,1", "in:1,,2", "nin:"])
def test_empty_lists_and_elements(raw):
    (error,) = errors_of(("number", raw))
    assert error.member_name == "number"


def test_each_bad_list_element_is_reported():
    errors = errors_of(("number", "in:1,x,y"))
    assert [e.member_name for e in errors] == ["number", "number"]


def test_huge_list_refused():
    errors_of(("number", "in:" + ",".join(["1"] * 1001)))
    assert len(only_condition(("number", "in:" + ",".join(["1"] * 1000))).value) == 1000


@pytest.mark.parametrize("raw", ["", ";", "gt:10;", ";gt:10", "gt:;", "gt:"])
def test_empty_operations(raw):
    errors = errors_of(("number", raw))
    assert errors and all(e.member_name == "number" for e in errors)


@pytest.mark.parametrize("raw,message", [
    ("foo:1", "Unknown operator 'foo'"),
    ("between:1", "Unknown operator 'between'"),
    ("Like:x", "Unknown operator 'Like'"),
])
def test_unknown_operator(raw, message):
    (error,) = errors_of(("number", raw))
    assert error.member_name == "number"
    assert message in error.message and "eq, neq, gt" in error.message


# --- argument types --------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("0", 0), ("-7", -7), ("+7", 7), ("007", 7),
    ("2147483647", 2**31 - 1), ("-2147483648", -(2**31)),
])
def test_int_values(text, value):
    assert only_condition(("number", text)).value == value


@pytest.mark.parametrize("text", [
    "1.5", "1e3", "abc", " 1", "1 ", "0x10", "1_000", "٣", "9223372036854775808",
    "-9223372036854775809", "9" * 5000, "--1", "+",
    # An int member is an INTEGER column unless it names another type: PostgreSQL refuses to
    # compare one with a number beyond 32 bits.
    "2147483648", "-2147483649",
])
def test_bad_int_values(text):
    (error,) = errors_of(("number", text))
    assert error.member_name == "number" and "whole number" in error.message
    assert "from -2147483648 to 2147483647" in error.message


@pytest.mark.parametrize("sql_type,low,high", [
    (SmallInteger(), -(2**15), 2**15 - 1),
    (Integer(), -(2**31), 2**31 - 1),
    (BigInteger(), -(2**63), 2**63 - 1),
])
def test_int_values_are_bounded_by_the_column_type(sql_type, low, high):
    spec = QuerySpec(members=(Member("n", "int", sql_type=sql_type),))
    for value in (low, high):
        query = parse_query(MultiDict([("n", f"in:{value}")]), spec)
        assert query.conditions[0].value == (value,)
    for value in (low - 1, high + 1):
        for operation in ("", "eq:", "gt:", "in:1,", "nin:"):
            with pytest.raises(Invalid) as refused:
                parse_query(MultiDict([("n", f"{operation}{value}")]), spec)
            assert [e.member_name for e in refused.value.errors] == ["n"]


@pytest.mark.parametrize("text,value", [
    ("12", Decimal(12)), ("-0.5", Decimal("-0.5")), ("12.50", Decimal("12.50")),
    ("99999999999999.9999", Decimal("99999999999999.9999")),
    ("-99999999999999.9999", Decimal("-99999999999999.9999")),
    ("1.25000000", Decimal("1.25")),
])
def test_decimal_values(text, value):
    assert only_condition(("orderTotal", text)).value == value


@pytest.mark.parametrize("text", [
    "NaN", "Infinity", "-inf", "1e5", "1E-999999999", "1.", ".5", "+1", "1,5",
    "1234567890123456789", "abc", "١٢",
    # Beyond what an amount column (NUMERIC(18, 4)) holds: in size, or in decimals.
    "100000000000000", "-100000000000000", "999999999999999999.99", "12.34567", "0.00001",
])
def test_bad_decimal_values(text):
    (error,) = errors_of(("orderTotal", text))
    assert error.member_name == "orderTotal"
    assert "at most 4 decimals" in error.message


def test_decimal_values_are_bounded_by_the_column_type():
    spec = QuerySpec(members=(Member("q", "decimal", sql_type=Numeric(14, 3)),))
    assert parse_query(MultiDict([("q", "gt:99999999999.999")]), spec).conditions[0].value == \
        Decimal("99999999999.999")
    for text in ("100000000000", "0.0001"):
        with pytest.raises(Invalid) as refused:
            parse_query(MultiDict([("q", f"lt:{text}")]), spec)
        assert "at most 3 decimals" in refused.value.errors[0].message


@pytest.mark.parametrize("text,value", [("true", True), ("FALSE", False), ("True", True)])
def test_bool_values(text, value):
    assert only_condition(("isvoid", text)).value is value


@pytest.mark.parametrize("text", ["1", "yes", "t", ""])
def test_bad_bool_values(text):
    errors_of(("isVoid", "eq:" + text))


@pytest.mark.parametrize("text,value", [
    ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, 0)),
    ("2026-11-01T08:00:00", datetime(2026, 11, 1, 8, 0)),
    ("2026-11-01T10:00:00+02:00", datetime(2026, 11, 1, 8, 0)),
    ("2026-11-01T03:30:00-04:30", datetime(2026, 11, 1, 8, 0)),
    ("2026-11-01T00:30:00+01:00", datetime(2026, 10, 31, 23, 30)),
    ("2026-11-01", datetime(2026, 11, 1)),
    ("2026-11-01T08:00:00.123456Z", datetime(2026, 11, 1, 8, 0, 0, 123456)),
])
def test_datetime_values_become_naive_utc(text, value):
    for raw in (text, "gte:" + text):
        parsed = only_condition(("createdDateUtc", raw)).value
        assert parsed == value and parsed.tzinfo is None


@pytest.mark.parametrize("text", [
    "tomorrow", "2026-13-01", "2026-11-01T25:00", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "12", "2026-11-01T08:00:00Zjunk",
])
def test_bad_datetime_values(text):
    (error,) = errors_of(("createdDateUtc", "eq:" + text))
    assert "ISO 8601" in error.message


def test_enum_values():
    assert only_condition(("status", "PROCESSING")).value == "Processing"
    (error,) = errors_of(("status", "Shipped"))
    assert error.member_name == "status" and "New, Processing" in error.message


def test_string_values_as_given():
    assert only_condition(("ticketName", "eq:")) == Condition("ticketName", "eq", "")
    assert only_condition(("ticketName", "eq:a:b")).value == "a:b"
    assert only_condition(("ticketName", "contains:50%_off")).value == "50%_off"
    assert only_condition(("ticketName", "Table 5: window")).value == "Table 5: window"
    assert only_condition(("ticketName", "  spaced ")).value == "  spaced "
    errors_of(("ticketName", "contains:"))


def test_bare_word_colon_is_an_unknown_operator_not_a_value():
    (error,) = errors_of(("ticketName", "Table:5"))
    assert "Unknown operator 'Table'" in error.message


@pytest.mark.parametrize("text", [UUID, UUID.upper(), UUID.replace("-", "")])
def test_uuid_values(text):
    assert only_condition(("id", text)).value == UUID


@pytest.mark.parametrize("text", [
    "42", "not-a-uuid", "{" + UUID + "}", UUID + "0", "٣" * 32, "0_" * 16,
])
def test_bad_uuid_values(text):
    errors_of(("id", "eq:" + text))


# --- member errors ---------------------------------------------------------------------------

def test_unknown_member_names_raw_parameter():
    (error,) = errors_of(("Colour", "red"))
    assert error.member_name == "Colour" and "ticketName" in error.message


def test_non_filterable_member():
    (error,) = errors_of(("SECRET", "x"))
    assert error.member_name == "secret"


def test_non_sortable_member_is_filterable():
    assert only_condition(("endpointname", "startswith:Kit")) == Condition(
        "endpointName", "startswith", "Kit")


def test_all_problems_are_reported():
    errors = errors_of(
        ("$take", "5000"), ("$skip", "-3"), ("$count", "maybe"), ("$sort", "nope,-number:x"),
        ("$include", "items"), ("$bogus", "1"), ("colour", "red"), ("number", "foo:1;gt:x"),
        ("status", "Shipped"), ("isVoid", "gt:true"), ("createdDateUtc", "soon"),
    )
    names = [e.member_name for e in errors]
    assert sorted(names) == sorted([
        "$take", "$skip", "$count", "$sort", "$sort", "$include", "$bogus", "colour",
        "number", "number", "status", "isVoid", "createdDateUtc",
    ])
    assert all(e.code == "invalid" and e.message for e in errors)


def test_plain_dict_is_accepted():
    assert parse_query({"number": "5"}, SPEC).conditions == (Condition("number", "eq", 5),)


# --- never anything but Invalid --------------------------------------------------------------

_names = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["$skip", "$take", "$count", "$sort", "$include", "$SORT", "$Take"]),
    st.text(max_size=8).map(lambda s: "$" + s),
    st.sampled_from([m.name for m in SPEC.members] + ["NUMBER", "createddateutc"]),
)
_ops = st.sampled_from(["", "eq:", "neq:", "gt:", "in:", "nin:", "contains:", "GTE:", "foo:"])
_values = st.one_of(
    st.text(),
    st.builds(lambda op, v: op + v, _ops,
              st.text(alphabet="0123456789-:.,;TZ+eE nulNUL", max_size=30)),
    st.sampled_from(["null", "true", "9" * 400, UUID, "2026-11-01T08:00:00Z", "ready",
                     "-number", "number:desc", "history", "in:1,,2", "1e999999"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_names, _values), max_size=6))
def test_random_input_parses_or_raises_invalid(pairs):
    try:
        query = parse_query(MultiDict(pairs), SPEC)
    except Invalid as invalid:
        assert invalid.errors
        assert all(e.code == "invalid" and isinstance(e.member_name, str) for e in invalid.errors)
    else:
        assert isinstance(query, Query)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=10), st.binary(max_size=20)), max_size=4))
def test_random_bytes_parse_or_raise_invalid(pairs):
    with contextlib.suppress(Invalid):
        parse_query(MultiDict(pairs), SPEC)


# --- condition_clause on SQLite --------------------------------------------------------------

@pytest.fixture(scope="module")
def db():
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("n", Integer, nullable=True), Column("s", String, nullable=True))
    table.metadata.create_all(engine)
    rows = [(1, 10, "Alpha"), (2, 20, "50% OFF"), (3, None, "a_b"), (4, 30, None),
            (5, 20, "axb"), (6, 5, "beta alpha")]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "n": n, "s": s} for i, n, s in rows])
    yield engine, table
    engine.dispose()


def ids(db, column_name, op, value):
    engine, table = db
    clause = condition_clause(Condition(column_name, op, value), table.c[column_name])
    with engine.connect() as conn:
        return sorted(conn.scalars(select(table.c.id).where(clause)))


@pytest.mark.parametrize("op,value,expected", [
    ("eq", 20, [2, 5]),
    ("neq", 20, [1, 3, 4, 6]),
    ("eq", None, [3]),
    ("neq", None, [1, 2, 4, 5, 6]),
    ("gt", 10, [2, 4, 5]),
    ("gte", 10, [1, 2, 4, 5]),
    ("lt", 20, [1, 6]),
    ("lte", 20, [1, 2, 5, 6]),
    ("in", (10, 30), [1, 4]),
    ("nin", (10, 30), [2, 3, 5, 6]),
])
def test_clause_on_int_column(db, op, value, expected):
    assert ids(db, "n", op, value) == expected


@pytest.mark.parametrize("op,value,expected", [
    ("eq", "Alpha", [1]),
    ("neq", "Alpha", [2, 3, 4, 5, 6]),
    ("contains", "ALPHA", [1, 6]),
    ("contains", "%", [2]),
    ("contains", "_", [3]),
    ("contains", "a_b", [3]),
    ("startswith", "a", [1, 3, 5]),
    ("startswith", "50%", [2]),
    ("endswith", "PHA", [1, 6]),
    ("endswith", "%", []),
    ("in", ("Alpha", "axb"), [1, 5]),
    ("nin", ("Alpha",), [2, 3, 4, 5, 6]),
])
def test_clause_on_string_column(db, op, value, expected):
    assert ids(db, "s", op, value) == expected


def test_clause_refuses_unknown_operator(db):
    with pytest.raises(ValueError):
        condition_clause(Condition("n", "like", 1), db[1].c.n)
