"""Allow-list parser for NData query strings (contract 4.2).

Every parameter is checked against the caller's QuerySpec; anything else answers `Invalid` with
one FieldError per problem, so a client sees all its mistakes at once and nothing is guessed.
"""
import operator
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, func, or_
from sqlalchemy.types import TypeEngine
from werkzeug.datastructures import MultiDict

from app.core import money
from app.core.errors import FieldError, Invalid


@dataclass(frozen=True)
class Member:
    name: str
    type: str
    choices: tuple[str, ...] = ()
    sortable: bool = True
    filterable: bool = True
    # The type of the column an int or decimal member filters, which its arguments must fit:
    # PostgreSQL refuses to compare an INTEGER column with a number beyond 32 bits, and a
    # decimal column on SQLite holds whole units of its last decimal (app.models.columns).
    # Unset, an int member is an INTEGER and a decimal one an amount, NUMERIC(18, 4).
    sql_type: TypeEngine | None = None


@dataclass(frozen=True)
class Condition:
    member: str
    op: str
    value: object


@dataclass(frozen=True)
class SortKey:
    member: str
    descending: bool


@dataclass(frozen=True)
class Query:
    conditions: tuple[Condition, ...]
    sort: tuple[SortKey, ...]
    skip: int
    take: int
    count: bool
    include: frozenset[str]


@dataclass(frozen=True)
class QuerySpec:
    members: tuple[Member, ...]
    includes: tuple[str, ...] = ()
    default_take: int = 100
    max_take: int = 1000


OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "nin",
             "contains", "startswith", "endswith")
_ORDERED, _EQUALITY = OPERATORS[:8], ("eq", "neq", "in", "nin")
ALLOWED_OPERATORS = {"int": _ORDERED, "decimal": _ORDERED, "datetime": _ORDERED,
                     "string": OPERATORS, "enum": _EQUALITY, "uuid": _EQUALITY,
                     "bool": ("eq", "neq")}
_SQL_COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
OPTIONS = ("$skip", "$take", "$count", "$sort", "$include")
_SINGLE_OPTIONS = ("$skip", "$take", "$count")
# Keeps an in/nin list well below SQLite's bound-parameter limit.
MAX_LIST = 1000

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_AMOUNT = Numeric(money.AMOUNT_DIGITS, money.AMOUNT_DECIMALS)
# [0-9] rather than \d: Python's \d and int() also accept non-ASCII digits.
_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")
_WORD = re.compile(r"[A-Za-z]+")
# ASCII-only folding: str.lower() would let e.g. the Kelvin sign match "k" in "$take".
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_EXPECTED = {
    "bool": "true or false",
    "datetime": "an ISO 8601 date-time such as 2026-11-01T08:00:00Z",
    "string": "text",
    "uuid": "a UUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
}


class _BadValue(Exception):
    """Internal: one argument could not be read; the message is client-facing."""


def _fold(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _show(text: str) -> str:
    # Echo client input bounded and escaped, so junk cannot flood or garble a message.
    return repr(text if len(text) <= 40 else text[:40] + "…")


def int_range(member: Member) -> tuple[int, int]:
    """The whole numbers the member's column holds on every database."""
    sql_type = member.sql_type if member.sql_type is not None else Integer()
    bits = (64 if isinstance(sql_type, BigInteger) else
            16 if isinstance(sql_type, SmallInteger) else 32)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _decimal_range(member: Member) -> tuple[Decimal, int]:
    """(limit, scale): the member's column holds values below the limit in size, with at most
    `scale` decimals."""
    sql_type = member.sql_type if member.sql_type is not None else _AMOUNT
    return Decimal(10) ** (sql_type.precision - sql_type.scale), sql_type.scale


def expected_value(member: Member) -> str:
    """What an argument of the member must be, as the errors (and the API description) say."""
    if member.type == "enum":
        return "one of " + ", ".join(member.choices)
    if member.type == "int":
        low, high = int_range(member)
        return f"a whole number from {low} to {high}, such as 42"
    if member.type == "decimal":
        limit, scale = _decimal_range(member)
        return (f"a decimal number with at most {scale} decimals, above -{limit} and below "
                f"{limit}, such as 12.50")
    return _EXPECTED.get(member.type, "a value")


def _parse_int(text: str, low: int = _INT64_MIN, high: int = _INT64_MAX) -> int | None:
    # The length check keeps int() away from huge digit strings.
    if not _INT.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 19:
        return None
    number = int(text)
    return number if low <= number <= high else None


def _parse_value(member: Member, text: str):
    kind = member.type
    if text == "" and kind != "string":
        raise _BadValue(f"Missing value; expected {expected_value(member)}.")
    try:
        if kind == "string":
            # PostgreSQL refuses NUL in text and SQLite cuts a pattern short at it.
            if "\x00" in text:
                raise _BadValue(f"{_show(text)} contains a NUL character.")
            return text
        if kind == "int" and (number := _parse_int(text, *int_range(member))) is not None:
            return number
        if kind == "decimal" and _DECIMAL.fullmatch(text):
            # Only values the column can hold: on SQLite a comparison with more decimals than
            # the column keeps would be rounded to them, and so answer wrongly.
            limit, scale = _decimal_range(member)
            number = Decimal(text)
            if abs(number) < limit and number == number.quantize(Decimal(1).scaleb(-scale)):
                return number
        elif kind == "bool":
            folded = _fold(text)
            if folded in ("true", "false"):
                return folded == "true"
        elif kind == "datetime":
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            return moment
        elif kind == "enum":
            folded = _fold(text)
            for choice in member.choices:
                if _fold(choice) == folded:
                    return choice
        elif kind == "uuid" and _UUID.fullmatch(text):
            return str(uuid.UUID(text))
    except (ValueError, TypeError, ArithmeticError):
        pass
    raise _BadValue(f"{_show(text)} is not {expected_value(member)}.")


def _split_operation(text: str) -> tuple[str | None, str]:
    """Returns (operator, argument); operator None means an unknown operator named `argument`."""
    head, sep, rest = text.partition(":")
    if sep:
        folded = _fold(head)
        if folded in OPERATORS:
            return folded, rest
        if _WORD.fullmatch(head):
            return None, head
    # A bare value may contain ':' itself, e.g. a date-time.
    return "eq", text


def _parse_operations(member: Member, raw: str, errors: list[FieldError]) -> list[Condition]:
    def fail(message: str) -> None:
        errors.append(FieldError(member.name, message))

    allowed = ALLOWED_OPERATORS.get(member.type, ())
    conditions = []
    for text in raw.split(";"):
        if text == "":
            fail("Empty operation; write operator:argument (e.g. eq:value) or a bare value, "
                 "operations joined by ';'.")
            continue
        op, arg = _split_operation(text)
        if op is None:
            fail(f"Unknown operator {_show(arg)}; use one of {', '.join(allowed)}.")
            continue
        if op not in allowed:
            fail(f"Operator '{op}' cannot be used on {member.name}; "
                 f"use one of {', '.join(allowed)}.")
            continue
        if op in ("eq", "neq") and _fold(arg) == "null":
            conditions.append(Condition(member.name, op, None))
            continue
        if op in ("in", "nin"):
            values = _parse_list(member, op, arg, fail)
            if values is not None:
                conditions.append(Condition(member.name, op, values))
            continue
        if arg == "" and op not in ("eq", "neq"):
            fail(f"Operator '{op}' needs an argument: {expected_value(member)}.")
            continue
        try:
            conditions.append(Condition(member.name, op, _parse_value(member, arg)))
        except _BadValue as bad:
            fail(str(bad))
    return conditions


def _parse_list(member: Member, op: str, arg: str, fail) -> tuple | None:
    items = arg.split(",")
    if "" in items:
        fail(f"Operator '{op}' needs a comma-separated list of values without empty "
             f"elements, each {expected_value(member)}.")
        return None
    if len(items) > MAX_LIST:
        fail(f"Operator '{op}' takes at most {MAX_LIST} values.")
        return None
    values, ok = [], True
    for item in items:
        if _fold(item) == "null":
            fail(f"null cannot be used in '{op}'; test for null with eq:null or neq:null.")
            ok = False
            continue
        try:
            values.append(_parse_value(member, item))
        except _BadValue as bad:
            fail(str(bad))
            ok = False
    return tuple(values) if ok else None


def _parse_sort(raw: str, members: dict[str, Member], keys: list[SortKey],
                errors: list[FieldError]) -> None:
    def fail(message: str) -> None:
        errors.append(FieldError("$sort", message))

    usable = ", ".join(m.name for m in members.values() if m.sortable)
    seen = {key.member for key in keys}
    for part in raw.split(","):
        key = part.strip()
        descending = key.startswith("-")
        if descending:
            key = key[1:]
        name, sep, direction = key.partition(":")
        name = name.strip()
        if not name:
            fail("Empty sort key; write key, key:asc, key:desc or -key, separated by ','.")
            continue
        if sep:
            folded = _fold(direction.strip())
            if descending or folded not in ("asc", "desc"):
                fail(f"Bad sort direction in {_show(part)}; "
                     "write key, key:asc, key:desc or -key.")
                continue
            descending = folded == "desc"
        member = members.get(_fold(name))
        if member is None or not member.sortable:
            fail(f"Cannot sort by {_show(name)}; use one of {usable}.")
        elif member.name not in seen:
            seen.add(member.name)
            keys.append(SortKey(member.name, descending))


def _parse_include(raw: str, includes: tuple[str, ...], found: set[str],
                   errors: list[FieldError]) -> None:
    by_fold = {_fold(name): name for name in includes}
    for part in raw.split(","):
        extra = by_fold.get(_fold(part.strip()))
        if extra is None:
            usable = ", ".join(includes) or "(none)"
            errors.append(FieldError("$include", f"Cannot include {_show(part.strip())}; "
                                                 f"use one of {usable}."))
        else:
            found.add(extra)


def _pairs(args) -> list[tuple[str, str]]:
    items = args.items(multi=True) if isinstance(args, MultiDict) else args.items()
    return [(_text(k), _text(v)) for k, v in items]


def parse_includes(args: MultiDict, includes: tuple[str, ...] = ()) -> frozenset[str]:
    """The query string of a single resource: `$include` with these extras and nothing else.
    Anything else answers Invalid naming the parameter, as parse_query does for lists: a filter
    or list option sent here would otherwise be ignored without a word."""
    found: set[str] = set()
    errors: list[FieldError] = []
    accepted = f"$include ({', '.join(includes)})" if includes else "no query parameters"
    for name, raw in _pairs(args):
        if includes and _fold(name) == "$include":
            _parse_include(raw, includes, found, errors)
        else:
            errors.append(FieldError(name, f"Unknown parameter {_show(name)}; this route "
                                           f"takes {accepted}."))
    if errors:
        raise Invalid(errors)
    return frozenset(found)


def parse_query(args: MultiDict, spec: QuerySpec) -> Query:
    members = {_fold(m.name): m for m in spec.members}
    pairs = _pairs(args)
    errors: list[FieldError] = []
    conditions: list[Condition] = []
    sort: list[SortKey] = []
    include: set[str] = set()
    skip, take, count = 0, spec.default_take, False

    given, repeated = Counter(_fold(k) for k, _ in pairs), set()
    for raw_name, raw in pairs:
        name = _fold(raw_name)
        if name in _SINGLE_OPTIONS and given[name] > 1:
            if name not in repeated:  # one error per repeated option
                repeated.add(name)
                errors.append(FieldError(name, f"{name} may be given only once."))
            continue
        if name in ("$skip", "$take"):
            high = spec.max_take if name == "$take" else _INT64_MAX
            number = _parse_int(raw, 0, high)
            if number is None:
                accepted = f"from 0 to {high}" if name == "$take" else "of 0 or more"
                errors.append(FieldError(name, f"{_show(raw)} is not a valid {name}; "
                                               f"use a whole number {accepted}."))
            elif name == "$skip":
                skip = number
            else:
                take = number
        elif name == "$count":
            if _fold(raw) in ("true", "false"):
                count = _fold(raw) == "true"
            else:
                errors.append(FieldError(name, f"{_show(raw)} is not a valid $count; "
                                               "use true or false."))
        elif name == "$sort":
            _parse_sort(raw, members, sort, errors)
        elif name == "$include":
            _parse_include(raw, spec.includes, include, errors)
        elif name.startswith("$"):
            errors.append(FieldError(raw_name, f"Unknown option {_show(raw_name)}; "
                                               f"use one of {', '.join(OPTIONS)}."))
        elif name not in members:
            usable = ", ".join(m.name for m in spec.members if m.filterable)
            errors.append(FieldError(raw_name, f"Unknown filter {_show(raw_name)}; "
                                               f"use one of {usable}."))
        elif not members[name].filterable:
            errors.append(FieldError(members[name].name,
                                     f"{members[name].name} cannot be filtered on."))
        else:
            conditions.extend(_parse_operations(members[name], raw, errors))

    if errors:
        raise Invalid(errors)
    return Query(tuple(conditions), tuple(sort), skip, take, count, frozenset(include))


def condition_clause(condition: Condition, column):
    """One Condition as a boolean SQL expression on `column` (SQLite and PostgreSQL)."""
    op, value = condition.op, condition.value
    if value is None and op in ("eq", "neq"):
        return column.is_(None) if op == "eq" else column.is_not(None)
    if op == "eq":
        return column == value
    if op == "neq":
        # NULL rows are "not equal" too; a plain != would drop them.
        return column.is_distinct_from(value)
    if op in _SQL_COMPARISONS:
        return _SQL_COMPARISONS[op](column, value)
    if op == "in":
        return column.in_(list(value))
    if op == "nin":
        return or_(column.is_(None), column.not_in(list(value)))
    if op in ("contains", "startswith", "endswith"):
        # autoescape makes % and _ in the argument literal.
        lowered = func.lower(column)
        return getattr(lowered, op)(value.lower(), autoescape=True)
    raise ValueError(f"unsupported operator {op!r}")


# --- feeds: a cursor rather than NData -----------------------------------------------------

@dataclass(frozen=True)
class FeedSpec:
    """The query of a feed read with a cursor: `after` (the last sequence read, 0 for the
    start), `$take`, and `type`, a comma-separated list of these types."""
    types: tuple[str, ...]
    default_take: int = 100
    max_take: int = 1000


@dataclass(frozen=True)
class FeedQuery:
    after: int
    take: int
    types: tuple[str, ...]


def parse_feed(args: MultiDict, spec: FeedSpec) -> FeedQuery:
    """Names match case-insensitively, each may be given once; anything else, a value that is
    not a whole number in range or an unknown type answers Invalid naming the parameter."""
    after, take, types = 0, spec.default_take, []
    errors: list[FieldError] = []
    known = {_fold(t): t for t in spec.types}
    given = Counter(_fold(k) for k, _ in _pairs(args))
    for raw_name, raw in _pairs(args):
        name = _fold(raw_name)
        if name in ("after", "$take", "type") and given[name] > 1:
            if not any(e.member_name == name for e in errors):
                errors.append(FieldError(name, f"{name} may be given only once."))
        elif name == "after":
            number = _parse_int(raw, 0)
            if number is None:
                errors.append(FieldError("after", f"{_show(raw)} is not a valid cursor; use "
                                                  "the sequence of the last event read, or 0."))
            else:
                after = number
        elif name == "$take":
            number = _parse_int(raw, 0, spec.max_take)
            if number is None:
                errors.append(FieldError("$take", f"{_show(raw)} is not a valid $take; use a "
                                                  f"whole number from 0 to {spec.max_take}."))
            else:
                take = number
        elif name == "type":
            for part in (p.strip() for p in raw.split(",")):
                if _fold(part) in known:
                    types.append(known[_fold(part)])
                else:
                    errors.append(FieldError("type", f"{_show(part)} is not an event type; use "
                                                     f"{', '.join(spec.types)}."))
        else:
            errors.append(FieldError(raw_name, f"Unknown parameter {_show(raw_name)}; this "
                                               "route takes after, $take and type."))
    if errors:
        raise Invalid(errors)
    return FeedQuery(after, take, tuple(dict.fromkeys(types)))
