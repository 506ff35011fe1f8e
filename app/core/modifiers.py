"""Modifiers (contract 7): what changes a dish, as {name, quantity} ("Extra cheese" x 2, "No
onions" x 1), on ticket lines and order items.

They are part of what makes two ticket lines different (app.services.tickets), so they are kept
in one canonical form: names trimmed with inner whitespace collapsed, quantities exact decimals
of at most three places, a name given twice added up, sorted by name. Two lines that mean the
same dish then have equal keys however the till spelled or ordered them.
"""
from dataclasses import dataclass
from decimal import Decimal

from app.core.errors import FieldError

NAME_LENGTH = 80
MAX_PER_LINE = 20
QUANTITY_LIMIT = Decimal(1000)  # per modifier; more is a typing mistake
_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class Modifier:
    name: str
    quantity: Decimal = Decimal(1)


def _name(text) -> str:
    return " ".join(text.split()) if isinstance(text, str) else ""


def _is_quantity(q) -> bool:
    # The bound first: quantize() raises on numbers beyond its precision.
    return (isinstance(q, Decimal) and q.is_finite() and 0 < q < QUANTITY_LIMIT
            and q == q.quantize(_PLACES))


def check(modifiers, member: str) -> list[FieldError]:
    """The problems of a line's modifiers, each naming its member (`items[0].modifiers[1].name`)."""
    if not modifiers:
        return []
    errors = []
    if len(modifiers) > MAX_PER_LINE:
        errors.append(FieldError(member, f"A line has at most {MAX_PER_LINE} modifiers."))
    for i, modifier in enumerate(modifiers):
        name = _name(modifier.name)
        if not name or len(name) > NAME_LENGTH:
            errors.append(FieldError(f"{member}[{i}].name", "A modifier's name has 1 to "
                                                            f"{NAME_LENGTH} characters."))
        if not _is_quantity(modifier.quantity):
            errors.append(FieldError(f"{member}[{i}].quantity",
                                     "A modifier's quantity is above zero, below 1000, with "
                                     "at most 3 decimals."))
    return errors


def normalise(modifiers) -> tuple[Modifier, ...]:
    """The canonical form (module docstring) of modifiers that check() passed."""
    totals: dict[str, Decimal] = {}
    for modifier in modifiers or ():
        name = _name(modifier.name)
        totals[name] = totals.get(name, Decimal(0)) + Decimal(modifier.quantity)
    return tuple(Modifier(name, plain(quantity)) for name, quantity in
                 sorted(totals.items(), key=lambda pair: (pair[0].casefold(), pair[0])))


def plain(quantity: Decimal) -> Decimal:
    """The quantity without trailing zeros or an exponent: 2.500 -> 2.5, 1E+1 -> 10."""
    return Decimal(format(Decimal(quantity).normalize(), "f"))


def text(modifier: Modifier) -> str:
    """As people say it: "Extra cheese", "2 x Extra cheese"."""
    if modifier.quantity == 1:
        return modifier.name
    return f"{format(plain(modifier.quantity), 'f')} x {modifier.name}"
