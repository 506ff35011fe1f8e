"""Column types and key and time helpers every table uses."""
import os
import time
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import JSON, BigInteger, Numeric
from sqlalchemy.types import TypeDecorator

from app.core import money
from app.core.modifiers import Modifier


class ExactDecimal(TypeDecorator):
    """NUMERIC(precision, scale) that stays exact on both databases.

    PostgreSQL's NUMERIC is exact. SQLite has no decimal type: a NUMERIC column keeps a REAL,
    and SQLAlchemy hands it a float, so 1234567890123.4567 came back as ...4568. There the
    column is a BIGINT counting units of the last decimal (12.5 at scale 4 is 125000): exact,
    and ordered like the amounts, so comparisons, sorting and SUM() in SQL stay right.
    Arithmetic between two such columns in SQL would mix scales; nothing does any."""
    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int):
        super().__init__(precision, scale)
        self.precision, self.scale = precision, scale
        # Values stay strictly below this in size: the digits NUMERIC(precision, scale) holds.
        self.limit = Decimal(10) ** (precision - scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale))

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        value = Decimal(value)
        if not value.is_finite() or abs(value) >= self.limit:
            # PostgreSQL refuses it too (numeric field overflow). The services refuse such
            # values first, so this is a bug, not a client's mistake.
            raise ValueError(f"{value} does not fit NUMERIC({self.precision}, {self.scale})")
        # Rounded as PostgreSQL rounds a value with more decimals than the column keeps.
        return int(value.scaleb(self.scale).to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return Decimal(value).scaleb(-self.scale)


MONEY = ExactDecimal(money.AMOUNT_DIGITS, money.AMOUNT_DECIMALS)
QUANTITY = ExactDecimal(money.QUANTITY_DIGITS, money.QUANTITY_DECIMALS)


class _JSONList(TypeDecorator):
    """A JSON list read as a tuple (hashable: part of a ticket line's key); an empty one is
    stored as SQL NULL, so rows without any cost nothing and need no default."""
    impl = JSON
    cache_ok = True

    def __init__(self):
        super().__init__(none_as_null=True)

    def process_bind_param(self, value, dialect):
        return [self.to_json(v) for v in value] if value else None

    def process_result_value(self, value, dialect):
        return tuple(self.from_json(v) for v in value) if value else ()

    def to_json(self, value):
        return value

    def from_json(self, value):
        return value


class CodeList(_JSONList):
    """Allergen codes (app.core.allergens), as given: the services store them canonical."""
    cache_ok = True


class ModifierList(_JSONList):
    """Modifiers (app.core.modifiers) as [{"name": ..., "quantity": "1.5"}]: the quantity as
    the text of its exact decimal, so it comes back exact from both databases (a JSON number
    would come back a float)."""
    cache_ok = True

    def to_json(self, value):
        return {"name": value.name, "quantity": format(value.quantity, "f")}

    def from_json(self, value):
        return Modifier(value["name"], Decimal(value["quantity"]))


def utcnow() -> datetime:
    """Naive UTC, to the millisecond: both databases store timestamps without a zone, and the
    API shows milliseconds, so a time read from an answer filters exactly on the stored one."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None, microsecond=now.microsecond // 1000 * 1000)


def new_guid() -> str:
    return str(uuid.uuid4())


def new_ordered_guid() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (version 7, RFC 9562).

    For rows written often under an index on their key (orders, and their entries, items, cells
    and history by order): a random key puts each insert on a random page of every such index,
    read from disk and written again at commit; keys in time order land on the last pages, which
    are already in memory. At a million orders a ticket update's five inserts cost five times
    less. The other 74 bits are random, so a key is still not guessable from its neighbours."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
             | 0b10 << 62 | rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
