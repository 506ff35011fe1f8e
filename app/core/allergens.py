"""Allergens (contract 7): the fourteen the EU requires a kitchen to declare (Regulation (EU)
No 1169/2011, Annex II), as codes.

Products list the allergens they contain; ticket lines and order items list the guest's
allergies in the same codes. An item with any guest allergy is marked on every screen and slip,
naming them, and a station must acknowledge it before it is bumped.
"""
from app.core.errors import FieldError

ALL = ("gluten", "crustaceans", "eggs", "fish", "peanuts", "soybeans", "milk", "nuts",
       "celery", "mustard", "sesame", "sulphites", "lupin", "molluscs")
LABELS = {"gluten": "Gluten", "crustaceans": "Crustaceans", "eggs": "Eggs", "fish": "Fish",
          "peanuts": "Peanuts", "soybeans": "Soybeans", "milk": "Milk", "nuts": "Nuts",
          "celery": "Celery", "mustard": "Mustard", "sesame": "Sesame",
          "sulphites": "Sulphites", "lupin": "Lupin", "molluscs": "Molluscs"}
_RANK = {code: i for i, code in enumerate(ALL)}


def canonical(code) -> str | None:
    """The code for a name in any case, spaces around it ignored; None for anything else."""
    if not isinstance(code, str):
        return None
    code = code.strip().lower()
    return code if code in _RANK else None


def unknown_message(code) -> str:
    return f"Unknown allergen {code!r}; use one of {', '.join(ALL)}."


def check(codes, member: str) -> list[FieldError]:
    """One error per code that is not one of the fourteen, naming it as `member[i]`."""
    if codes is None:
        return []
    if isinstance(codes, str) or not isinstance(codes, (list, tuple)):
        return [FieldError(member, "A list of allergen codes is required.")]
    return [FieldError(f"{member}[{i}]", unknown_message(code))
            for i, code in enumerate(codes) if canonical(code) is None]


def normalise(codes) -> tuple[str, ...]:
    """Known codes, each once, in the EU list's order: the stored form, so two lists naming
    the same allergens are equal. Unknown codes are dropped (check() refuses them first)."""
    found = {canonical(code) for code in codes or ()}
    return tuple(sorted(found - {None}, key=_RANK.__getitem__))


def labels(codes) -> list[str]:
    return [LABELS.get(code, code) for code in codes or ()]
