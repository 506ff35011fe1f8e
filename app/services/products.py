"""Products and their routing to stations."""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core import allergens as A
from app.core import money
from app.core.errors import Conflict, FieldError, Invalid, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Product, Station
from app.services.common import check_version


def list_products() -> list[Product]:
    query = select(Product).options(selectinload(Product.stations)).order_by(Product.code)
    return list(db.session.scalars(query))


def get_product(code: str) -> Product:
    product = db.session.scalar(
        select(Product).options(selectinload(Product.stations)).where(Product.code == code))
    if product is None:
        raise NotFound(f"No product with code {code!r}.")
    return product


PREP_SECONDS_MAX = 86_400  # a day: longer is a typing mistake, not a dish


def _resolve(session, *, code, name, price, station_names, course, prep_seconds=None,
             allergens=()) -> list[Station]:
    errors = []
    if not code or not code.strip() or len(code) > 40 or "/" in code:
        errors.append(FieldError("code", "A code of 1 to 40 characters without '/' is required."))
    if not name or not name.strip() or len(name) > 120:
        errors.append(FieldError("name", "A name of 1 to 120 characters is required."))
    # The range check comes first: quantize() raises on a value too long for the context.
    if price is None or not price.is_finite() or not 0 <= price < money.LIMIT \
            or price != price.quantize(Decimal("0.0001")):
        errors.append(FieldError("price", "A price of zero or more, below 10^14, with at most "
                                          "4 decimals, is required."))
    if course is not None and not 0 <= course <= 99:
        errors.append(FieldError("course", "A course is a number from 0 to 99."))
    if prep_seconds is not None and (isinstance(prep_seconds, bool)
                                     or not 0 <= prep_seconds <= PREP_SECONDS_MAX):
        errors.append(FieldError("prepSeconds", "A prep time is a whole number of seconds "
                                                f"from 0 to {PREP_SECONDS_MAX}."))
    errors += A.check(allergens, "allergens")
    wanted = list(dict.fromkeys(station_names or []))
    stations = list(session.scalars(select(Station).where(Station.name.in_(wanted)))) \
        if wanted else []
    missing = sorted(set(wanted) - {s.name for s in stations})
    if missing:
        errors.append(FieldError("stationNames", f"Unknown station(s): {', '.join(missing)}."))
    if errors:
        raise Invalid(errors)
    return stations


def create_product(*, code: str, name: str, price: Decimal, station_names=(),
                   course: int | None = None, prep_seconds: int | None = None,
                   allergens=()) -> Product:
    """`allergens`: codes of the EU's fourteen (app.core.allergens), in any case; stored once
    each, in the list's order. Raises Invalid (naming `allergens[i]`), Conflict."""
    with write_transaction() as session:
        stations = _resolve(session, code=code, name=name, price=price,
                            station_names=station_names, course=course,
                            prep_seconds=prep_seconds, allergens=allergens)
        if session.scalar(select(Product.id).where(Product.code == code.strip())):
            raise Conflict(f"A product with code {code!r} exists already.", member_name="code")
        product = Product(code=code.strip(), name=name.strip(), price=price, course=course,
                          prep_seconds=prep_seconds, stations=stations, version=1,
                          allergens=A.normalise(allergens))
        session.add(product)
    return product


def update_product(current_code: str, *, code: str, name: str, price: Decimal,
                   station_names=(), course: int | None = None,
                   prep_seconds: int | None = None, allergens=(),
                   version: int | None = None) -> Product:
    with write_transaction() as session:
        product = session.scalar(
            select(Product).where(Product.code == current_code).with_for_update())
        if product is None:
            raise NotFound(f"No product with code {current_code!r}.")
        check_version(product.version, version)
        stations = _resolve(session, code=code, name=name, price=price,
                            station_names=station_names, course=course,
                            prep_seconds=prep_seconds, allergens=allergens)
        other = session.scalar(select(Product.id).where(Product.code == code.strip()))
        if other is not None and other != product.id:
            raise Conflict(f"A product with code {code!r} exists already.", member_name="code")
        product.code, product.name, product.price = code.strip(), name.strip(), price
        product.course, product.stations = course, stations
        product.prep_seconds = prep_seconds
        product.allergens = A.normalise(allergens)
        product.version += 1
    return product


def delete_product(code: str, *, version: int | None = None) -> None:
    with write_transaction() as session:
        product = session.scalar(select(Product).where(Product.code == code).with_for_update())
        if product is None:
            raise NotFound(f"No product with code {code!r}.")
        check_version(product.version, version)
        session.delete(product)
