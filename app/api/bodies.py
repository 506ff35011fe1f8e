"""Request bodies: pydantic models, matched case-insensitively, unknown members refused."""
import types
import typing
from decimal import Decimal
from typing import Annotated

from flask import current_app, request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from app.api.schemas import Allergen, OrderType, Status
from app.core import allergens, modifiers, money, order_types, station_settings
from app.core.errors import FieldError, Invalid
from app.core.status import canonical


def _status_name(value):
    # Status names match case-insensitively (contract 4.2); what matches none is left for the
    # enum to refuse, naming the statuses there are.
    return canonical(value) or value


# The same enum as in answers: one Status type in the description and in generated clients.
StatusName = Annotated[Status, BeforeValidator(_status_name)]


def _order_type_name(value):
    return order_types.canonical(value) or value


OrderTypeName = Annotated[OrderType, BeforeValidator(_order_type_name)]


def _allergen_name(value):
    return allergens.canonical(value) or value


# Any case; anything else is refused naming the member, e.g. `items[0].allergies[1]`.
AllergenName = Annotated[Allergen, BeforeValidator(_allergen_name)]

# Amounts and quantities: JSON numbers, read as exact Decimals (app.http.json); described with
# the bounds the services check them against, which the columns they are stored in hold.
Amount = Annotated[Decimal, WithJsonSchema(
    {"type": "number", "minimum": 0, "exclusiveMaximum": int(money.LIMIT)})]
Quantity = Annotated[Decimal, WithJsonSchema(
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": int(money.LINE_QUANTITY_LIMIT)})]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False)


class VersionedBody(Body):
    version: int | None = Field(None, alias="_v", ge=1)


class SignIn(Body):
    user_name: str
    password: str
    device_name: str | None = None


class Refresh(Body):
    token_id: str
    refresh_token: str


class ProcessOrders(Body):
    order_ids: list[str] = Field(max_length=1000)


class StatusChange(VersionedBody):
    status: StatusName


class ModifierWrite(Body):
    name: str = Field(max_length=modifiers.NAME_LENGTH)
    quantity: Annotated[Decimal, WithJsonSchema(
        {"type": "number", "exclusiveMinimum": 0,
         "exclusiveMaximum": int(modifiers.QUANTITY_LIMIT)})] = Field(
        Decimal(1), json_schema_extra={"default": 1})  # a JSON number, not pydantic's "1"


class TicketLine(Body):
    product_code: str = Field(max_length=40)
    quantity: Quantity
    note: str | None = Field(None, max_length=500)
    course: int | None = None
    modifiers: list[ModifierWrite] = Field(
        default_factory=list, max_length=modifiers.MAX_PER_LINE,
        description="Names are trimmed, a name given twice is added up, and the list is "
                    "sorted by name: lines that differ in modifiers are different lines.")
    allergies: list[AllergenName] = Field(
        default_factory=list, max_length=len(allergens.ALL),
        description="The guest's allergies. Part of what makes two lines different.")


class TicketWrite(VersionedBody):
    name: str = Field(max_length=120)
    items: list[TicketLine] = Field(default_factory=list, max_length=500)
    is_rush: bool | None = Field(None, description="Left out: false on a new ticket, kept as "
                                                   "it is on an update.")
    order_type: OrderTypeName | None = Field(None, description="Left out: dineIn on a new "
                                                               "ticket, kept on an update.")


class RushChange(VersionedBody):
    is_rush: bool


class TicketClose(VersionedBody):
    pass


class CourseFire(VersionedBody):
    """Firing a course takes no more than the version read; the body may be left out."""


class ProductWrite(VersionedBody):
    code: str
    name: str
    price: Amount
    station_names: list[str] = Field(default_factory=list)
    course: int | None = None
    prep_seconds: int | None = Field(
        None, ge=0, description="How long the product takes to make, in seconds: within a "
                                "fired course, shorter items start later so all finish "
                                "together.")
    allergens: list[AllergenName] = Field(default_factory=list, max_length=50)


class StationWrite(VersionedBody):
    name: str
    type: str = "display"
    is_active: bool = True
    address: str | None = None
    settings: dict[str, str] = Field(default_factory=dict,
                                     description=station_settings.description())
    backup_station_name: str | None = Field(
        None, description="Another station that takes this one's undelivered work while this "
                          "one is failing (a printer) or unwatched (a display); null: none.")
    secret: str | None = None


class WebhookWrite(VersionedBody):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(max_length=20, description="Event types to receive (at "
                                                              "least one).")
    secret: str | None = Field(None, description="Signs every delivery (HMAC-SHA256); at "
                                                 "least 16 characters. Write-only: left out on "
                                                 "an update, the secret is kept.")
    is_active: bool = True


def _model_of(annotation):
    """The BaseModel inside `X`, `list[X]` or `X | None`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner, many = _model_of(arg)
            if inner:
                return inner, many
    return None, False


def _match_names(model: type[BaseModel], data):
    """Rename keys to the model's spelling when they match ignoring case (contract 2.1)."""
    if not isinstance(data, dict):
        return data
    by_lower = {}
    for name, info in model.model_fields.items():
        by_lower[(info.alias or name).lower()] = (info.alias or name, info.annotation)
    result = {}
    for key, value in data.items():
        alias, annotation = by_lower.get(str(key).lower(), (key, None))
        inner, many = _model_of(annotation) if annotation is not None else (None, False)
        if inner and many and isinstance(value, list):
            value = [_match_names(inner, v) for v in value]
        elif inner:
            value = _match_names(inner, value)
        result[alias] = value
    return result


def _member_name(loc) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _members_with_nul(data, name: str = "") -> list[str]:
    """Members whose text holds a NUL character: PostgreSQL cannot store or compare one."""
    if isinstance(data, str):
        return [name or "body"] if "\x00" in data else []
    if isinstance(data, dict):
        return [m for key, value in data.items()
                for m in _members_with_nul(value, f"{name}.{key}" if name else str(key))]
    if isinstance(data, list):
        return [m for i, value in enumerate(data) for m in _members_with_nul(value, f"{name}[{i}]")]
    return []


def _request_json():
    """The body read as JSON; None when there is none, or it is not sent as JSON."""
    data = request.get_json(silent=True)
    if data is None and request.is_json and request.get_data(cache=True):
        # Read once more for the reason, which get_json keeps to itself.
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError as error:
            raise Invalid([FieldError("body", f"The body is not valid JSON: {error}")]) from None
    return data


def parse_body(model: type[Body], data=None):
    if data is None:
        data = _request_json()
    if not isinstance(data, dict):
        raise Invalid([FieldError("body", "A JSON object is required.")])
    if nul := _members_with_nul(data):
        raise Invalid([FieldError(member, "Text may not contain a NUL character.")
                       for member in nul])
    try:
        return model.model_validate(_match_names(model, data))
    except ValidationError as error:
        raise Invalid([FieldError(_member_name(e["loc"]), e["msg"], e["type"])
                       for e in error.errors()]) from None


def expected_version(body_version: int | None) -> int | None:
    """The version a write names: `_v` in the body, else an If-Match header."""
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    # An order's ETag is "<_v>-<stations' version>" (app.api.serializers.versioned).
    value = header.strip().removeprefix("W/").strip('"').split("-")[0]
    if not value.isdigit():
        raise Invalid([FieldError("If-Match", "If-Match names a version, like \"3\".")])
    return int(value)


class ProjectWrite(Body):
    name: str
    product_code: str


class BasketLineWrite(Body):
    project_guid: str | None = None
    product_code: str | None = None
    quantity: Quantity


class Address(Body):
    first_name: str | None = None
    last_name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    company_name: str | None = None
    email_address: str | None = None
    phone_number: str | None = None


class Checkout(Body):
    currency: str | None = None
    shipping_method: str | None = None
    shipping_address: Address | None = None
    discount_total: Amount | None = None
    shipping_total: Amount | None = None
