"""Projects, baskets and checkout (contract 3.2). Everything here is visible only to its owner:
another user's project or basket is NotFound, whatever rights they hold."""
import re
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from app.core import money
from app.core import order_types as OT
from app.core.errors import Conflict, FieldError, Invalid, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Device, Product, User, utcnow
from app.models.baskets import Basket, BasketLine, Project
from app.models.orders import Order
from app.services.order_factory import ItemSpec, OrderSpec, create_order

ADDRESS_REQUIRED = ("firstName", "lastName", "line1", "city", "postalCode", "country")
ADDRESS_OPTIONAL = ("line2", "state", "companyName", "emailAddress", "phoneNumber")
_COUNTRY = re.compile(r"[A-Z]{2}")


def _is_quantity(value) -> bool:
    # The bound first: quantizing a huge value (1e308) raises instead of answering.
    return (value is not None and value.is_finite() and 0 < value < money.LINE_QUANTITY_LIMIT
            and value == value.quantize(Decimal("0.001")))


# Projects

def list_projects(*, user: User) -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.user_id == user.id)
                                   .order_by(Project.created_at, Project.guid)))


def get_project(*, user: User, guid: str) -> Project:
    project = db.session.scalar(select(Project).where(Project.guid == str(guid),
                                                      Project.user_id == user.id))
    if project is None:
        raise NotFound("No such project.")
    return project


def create_project(*, user: User, name: str, product_code: str) -> Project:
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors.append(FieldError("name", "A name of 1 to 120 characters is required."))
    if db.session.scalar(select(Product.id).where(Product.code == product_code)) is None:
        errors.append(FieldError("productCode", f"Unknown product code {product_code!r}."))
    if errors:
        raise Invalid(errors)
    with write_transaction() as session:
        project = Project(user_id=user.id, name=name.strip(), product_code=product_code)
        session.add(project)
    return project


def delete_project(*, user: User, guid: str) -> None:
    with write_transaction() as session:
        project = session.scalar(select(Project).where(
            Project.guid == str(guid), Project.user_id == user.id).with_for_update())
        if project is None:
            raise NotFound("No such project.")
        if session.scalar(select(exists().where(BasketLine.project_guid == project.guid))):
            raise Conflict("The project is in a basket; remove it from the basket first.",
                           member_name="guid")
        session.delete(project)


# Baskets

def _baskets(user: User):
    return (select(Basket).where(Basket.user_id == user.id)
            .options(selectinload(Basket.lines)))


def list_baskets(*, user: User) -> list[Basket]:
    return list(db.session.scalars(_baskets(user).order_by(Basket.created_at, Basket.guid)))


def get_basket(*, user: User, guid: str) -> Basket:
    basket = db.session.scalar(_baskets(user).where(Basket.guid == str(guid)))
    if basket is None:
        raise NotFound("No such basket.")
    return basket


def prices_for(baskets: list[Basket]) -> dict[str, Decimal]:
    """Current product prices for every line of these baskets, in one query."""
    codes = {line.product_code for basket in baskets for line in basket.lines}
    if not codes:
        return {}
    return dict(db.session.execute(select(Product.code, Product.price)
                                   .where(Product.code.in_(codes))).all())


def create_basket(*, user: User) -> Basket:
    with write_transaction() as session:
        now = utcnow()
        basket = Basket(user_id=user.id, created_at=now, last_saved_at=now)
        session.add(basket)
    return basket


def _locked_basket(session, user: User, guid: str) -> Basket:
    basket = session.scalar(select(Basket).where(
        Basket.guid == str(guid), Basket.user_id == user.id).with_for_update())
    if basket is None:
        raise NotFound("No such basket.")
    return basket


def delete_basket(*, user: User, guid: str) -> None:
    with write_transaction() as session:
        session.delete(_locked_basket(session, user, guid))


def _line_fields(session, user: User, *, project_guid, product_code, quantity):
    """Check a line's project, product and quantity; returns the product code to store."""
    errors = []
    if project_guid is not None:
        project = session.scalar(select(Project).where(Project.guid == str(project_guid),
                                                       Project.user_id == user.id))
        if project is None:
            # Another user's project is as unknown as a project that does not exist.
            errors.append(FieldError("projectGuid", "No such project."))
        else:
            if product_code is not None and product_code != project.product_code:
                errors.append(FieldError("productCode", "The project is made as "
                                                        f"{project.product_code!r}."))
            product_code = project.product_code
    if product_code is None and project_guid is None:
        errors.append(FieldError("productCode", "A product code or a project is required."))
    elif product_code is not None and session.scalar(
            select(Product.id).where(Product.code == product_code)) is None:
        errors.append(FieldError("productCode", f"Unknown product code {product_code!r}."))
    if not _is_quantity(quantity):
        errors.append(FieldError("quantity", "A quantity above zero, below 10^9, with at most 3 "
                                             "decimals, is required."))
    if errors:
        raise Invalid(errors)
    return product_code


def add_line(*, user: User, guid: str, quantity: Decimal, project_guid: str | None = None,
             product_code: str | None = None) -> Basket:
    with write_transaction() as session:
        basket = _locked_basket(session, user, guid)
        code = _line_fields(session, user, project_guid=project_guid, product_code=product_code,
                            quantity=quantity)
        basket.lines.append(BasketLine(project_guid=project_guid, product_code=code,
                                       quantity=quantity))
        basket.last_saved_at = utcnow()
    return basket


def update_line(*, user: User, guid: str, line_id: int, quantity: Decimal,
                project_guid: str | None = None, product_code: str | None = None) -> Basket:
    with write_transaction() as session:
        basket = _locked_basket(session, user, guid)
        line = next((item for item in basket.lines if item.id == line_id), None)
        if line is None:
            raise NotFound("The basket has no such line.")
        code = _line_fields(session, user, project_guid=project_guid, product_code=product_code,
                            quantity=quantity)
        line.project_guid, line.product_code, line.quantity = project_guid, code, quantity
        basket.last_saved_at = utcnow()
    return basket


def delete_line(*, user: User, guid: str, line_id: int) -> None:
    with write_transaction() as session:
        basket = _locked_basket(session, user, guid)
        line = next((item for item in basket.lines if item.id == line_id), None)
        if line is None:
            raise NotFound("The basket has no such line.")
        basket.lines.remove(line)
        basket.last_saved_at = utcnow()


# Checkout

def _amount(errors, name, value, currency):
    value = Decimal(0) if value is None else value
    # The bound before quantizing: a huge value (1e308) cannot be quantized at all.
    if not value.is_finite() or value < 0 or value >= money.LIMIT:
        errors.append(FieldError(name, "An amount of zero or more, below 10^14, is required."))
    elif currency and money.is_known_currency(currency) and \
            value != money.quantize(value, currency):
        errors.append(FieldError(name, f"{currency} amounts have at most "
                                       f"{money.MINOR_UNITS[currency]} decimals."))
    return value


def _check_address(address) -> list[FieldError]:
    if not isinstance(address, dict):
        return [FieldError("shippingAddress", "A shipping address is required.")]
    errors = []
    for name in ADDRESS_REQUIRED:
        value = address.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError(f"shippingAddress.{name}", "This field is required."))
        elif len(value) > 200:
            errors.append(FieldError(f"shippingAddress.{name}", "At most 200 characters."))
    country = address.get("country")
    if isinstance(country, str) and country.strip() and not _COUNTRY.fullmatch(country):
        errors.append(FieldError("shippingAddress.country",
                                 "A country is an ISO 3166-1 alpha-2 code, like 'NL'."))
    for name in ADDRESS_OPTIONAL:
        value = address.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            errors.append(FieldError(f"shippingAddress.{name}", "At most 200 characters."))
    return errors


def checkout_basket(*, user: User, device: Device | None, guid: str, currency: str,
                    shipping_method: str, shipping_address: dict,
                    discount_total: Decimal | None = None,
                    shipping_total: Decimal | None = None) -> Order:
    """Turn the basket into a placed order, in one transaction; the basket is gone after.

    Everything is checked before anything is written: NotFound for a basket that is not the
    user's (or was checked out already), Invalid naming every bad field.
    """
    with write_transaction() as session:
        basket = _locked_basket(session, user, guid)
        errors = []
        if not money.is_known_currency(currency):
            errors.append(FieldError("currency", "An ISO 4217 currency code this shop accepts, "
                                                 "like 'EUR', is required."))
        if not isinstance(shipping_method, str) or not shipping_method.strip() \
                or len(shipping_method) > 80:
            errors.append(FieldError("shippingMethod", "A shipping method is required."))
        errors += _check_address(shipping_address)
        discount = _amount(errors, "discountTotal", discount_total, currency)
        shipping = _amount(errors, "shippingTotal", shipping_total, currency)
        if not basket.lines:
            errors.append(FieldError("lines", "The basket is empty."))
        items = _frozen_items(session, user, device, basket, errors)
        if not errors and money.is_known_currency(currency):
            sub_total = sum((money.quantize(i.quantity * i.unit_price, currency)
                             for i in items), Decimal(0))
            if discount > sub_total:
                errors.append(FieldError("discountTotal", "The discount exceeds the sub-total."))
        if errors:
            raise Invalid(errors)
        for item in items:
            # Prices are amounts in the order's currency, kept to its minor unit.
            item.unit_price = money.quantize(item.unit_price, currency)
        address = {name: shipping_address.get(name) for name in
                   ADDRESS_REQUIRED + ADDRESS_OPTIONAL}
        order = create_order(session, OrderSpec(
            source="basket", user=user, items=items, currency=currency,
            device_name=device.name if device else None, discount_total=discount,
            shipping_total=shipping, shipping_method=shipping_method.strip(),
            shipping_address=address, created_at=basket.created_at, order_type=OT.WEB))
        order.last_saved_at = utcnow()
        session.delete(basket)
    return order


def _frozen_items(session, user, device, basket, errors) -> list[ItemSpec]:
    codes = {line.product_code for line in basket.lines}
    products = {p.code: p for p in session.scalars(
        select(Product).options(selectinload(Product.stations)).where(Product.code.in_(codes)))}
    owned = set(session.scalars(select(Project.guid).where(Project.user_id == user.id)))
    default = [device.default_station_id] if device and device.default_station_id else []
    items = []
    for i, line in enumerate(basket.lines):
        product = products.get(line.product_code)
        if line.project_guid is not None and line.project_guid not in owned:
            errors.append(FieldError(f"lines[{i}].projectGuid", "No such project."))
        if not _is_quantity(line.quantity):
            errors.append(FieldError(f"lines[{i}].quantity", "A quantity above zero is required."))
        if product is None:
            errors.append(FieldError(f"lines[{i}].productCode",
                                     f"Product {line.product_code!r} is no longer sold."))
            continue
        # Web orders go to the product's stations that take them (app.core.order_types).
        stations = [s.id for s in product.stations
                    if OT.WEB in OT.station_types(s.settings)] or default
        if not stations:
            errors.append(FieldError(f"lines[{i}].productCode",
                                     f"Product {product.code!r} is routed to no station "
                                     "that takes web orders."))
            continue
        items.append(ItemSpec(product_code=product.code, name=product.name,
                              quantity=line.quantity, unit_price=product.price,
                              station_ids=stations, course=product.course,
                              project_guid=line.project_guid,
                              prep_seconds=product.prep_seconds,
                              allergens=tuple(product.allergens or ())))
    return items
