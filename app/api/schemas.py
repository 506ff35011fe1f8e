"""The JSON API's answers as pydantic models: what app.api.serializers produce, described once.

The OpenAPI description takes its response schemas from these models (app.api.description), and the
tests validate real serializer output against them, so a serializer that drifts from its
description fails a test instead of surprising an integrator. Members are camelCase, unknown
members are not part of an answer (extra="forbid"), decimals are JSON numbers, and date-times
are ISO 8601 UTC with milliseconds and a Z.
"""
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from app.core import allergens as A
from app.core import event_types as ET
from app.core import order_types as OT
from app.core import rights as R
from app.core import station_settings
from app.core import status as S

_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"

UtcDateTime = Annotated[str, Field(pattern=_DATETIME, json_schema_extra={"format": "date-time"})]
# Amounts and quantities are decimals in storage and plain JSON numbers on the wire.
Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]
# One named enum, so the description (and a client generated from it) has one Status type
# rather than a copy per member that carries a status.
Status = StrEnum("Status", {name.upper(): name for name in S.ALL})
Status.__doc__ = "The status of an order, an item, a station's part or one cell (contract 2.3)."
# One named enum too, for orders, tickets and the bodies that set it.
OrderType = StrEnum("OrderType", {name.upper(): name for name in OT.ALL})
OrderType.__doc__ = ("How the guest gets the order (contract 7): dineIn, takeout, delivery, or "
                     "web (web-shop checkouts).")
# One named enum for products' allergens and guests' allergies.
Allergen = StrEnum("Allergen", {name.upper(): name for name in A.ALL})
Allergen.__doc__ = ("One of the fourteen allergens EU law requires a kitchen to declare "
                    "(contract 7).")
Right = Literal[R.ALL]
Guid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Versioned(Schema):
    version: int = Field(alias="_v", ge=1, description="Resource version (contract 5.3).")


class UserRef(Schema):
    user_name: str
    name: str


class DeviceRef(Schema):
    name: str


class TicketRef(Schema):
    id: Guid
    name: str | None


class Modifier(Schema):
    """What changes a dish: "Extra cheese" x 2, "No onions"."""
    name: str
    quantity: Number


class ItemEndpoint(Schema):
    name: str
    status: Status


class OrderItem(Schema):
    id: int = Field(ge=1, description="1..n inside its order, stable.")
    product_code: str
    name: str
    quantity: Number = Field(description="Negative on void orders.")
    unit_price: Number
    total: Number
    note: str | None
    course: int | None
    project_guid: Guid | None
    status: Status
    endpoints: list[ItemEndpoint]
    fired_date_utc: UtcDateTime | None = Field(
        description="When the item's course was fired; null while it is held, waiting to be "
                    "fired (`POST /api/orders/{id}/courses/{course}/fire`). The order's first "
                    "course and items without a course fire with the order.")
    start_date_utc: UtcDateTime | None = Field(
        description="When to start the item so its course finishes together: the firing "
                    "time plus the course's longest `prepSeconds` less its own. Null while "
                    "held.")
    modifiers: list[Modifier] = Field(description="As on the ticket line, sorted by name.")
    allergies: list[Allergen] = Field(
        description="The guest's allergies, as on the ticket line. An item with any is marked "
                    "on every screen and slip, and each station acknowledges it before its "
                    "card can be bumped.")
    allergens: list[Allergen] = Field(description="The product's allergens when it was "
                                                  "ordered.")


class OrderEndpointEntry(Schema):
    name: str
    status: Status
    is_active: bool
    processed_date_utc: UtcDateTime | None
    item_ids: list[int]


class OrderAddress(Schema):
    first_name: str
    last_name: str
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    company_name: str | None = None
    email_address: str | None = None
    phone_number: str | None = None


class HistoryEntry(Schema):
    at: UtcDateTime
    action: str
    level: str | None
    target: str | None
    from_status: Status | None
    to_status: Status | None
    user_name: str | None
    detail: str | None


class Order(Versioned):
    id: Guid
    number: int
    source: Literal["ticket", "basket"]
    ticket: TicketRef | None
    device: DeviceRef | None
    user: UserRef
    status: Status
    is_processed: bool
    is_processable: bool
    is_void: bool
    is_rush: bool = Field(description="Shown first, marked RUSH, on every station screen and "
                                      "the expo screen.")
    order_type: OrderType
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    sub_total: Number
    discount_total: Number
    shipping_total: Number
    order_total: Number
    shipping_method: str | None
    shipping_address: OrderAddress | None
    note: str | None
    created_date_utc: UtcDateTime
    last_saved_date_utc: UtcDateTime
    completed_date_utc: UtcDateTime | None
    items: list[OrderItem]
    endpoints: list[OrderEndpointEntry]
    history: list[HistoryEntry] = Field(default_factory=list,
                                        description="Only with `$include=history`.")


class TicketItem(Schema):
    product_code: str
    quantity: Number
    note: str | None
    course: int | None
    modifiers: list[Modifier]
    allergies: list[Allergen]


class Ticket(Versioned):
    id: Guid
    name: str
    device: DeviceRef | None
    user: UserRef
    items: list[TicketItem]
    is_rush: bool = Field(description="The orders generated from now on are rush orders.")
    order_type: OrderType = Field(description="The type of the orders generated from now on; "
                                              "it decides which stations they go to.")
    is_closed: bool
    created_date_utc: UtcDateTime
    last_saved_date_utc: UtcDateTime


class GeneratedOrder(Schema):
    id: Guid
    number: int
    is_void: bool = Field(description="A void order: it cancels items of earlier orders.")


class WrittenTicket(Ticket):
    generated_orders: list[GeneratedOrder] = Field(
        description="The orders this write generated, in the order they were made: an order "
                    "of what was added, a void order of what was taken away; empty when nothing "
                    "changed. Read them at `GET /api/orders/{id}`.")


class Product(Versioned):
    code: str
    name: str
    price: Number
    station_names: list[str]
    course: int | None
    prep_seconds: int | None = Field(ge=0, description="How long the product takes to make, "
                                                       "in seconds; null if not set.")
    allergens: list[Allergen] = Field(description="The allergens the product contains.")


class StationHealth(Schema):
    """Whether the station can be counted on now; read-only, changes without `_v`."""
    screens: int = Field(ge=0, description="Display stations: screens that showed the board "
                                           "within the unwatched window; 0 for the others.")
    last_seen_date_utc: UtcDateTime | None = Field(
        description="Display stations: when a screen last asked for the board; printers and "
                    "webhooks: when a send last went through. Null if never.")
    failing: bool = Field(description="An active printer or webhook whose last attempts all "
                                      "failed, or an active display station that screens "
                                      "showed before and none has lately: its work goes to "
                                      "its backup station, if it has one that is not failing.")


class Station(Versioned):
    """A station (order endpoint). Its `secret` is write-only and never part of an answer."""
    name: str
    is_active: bool
    type: Literal["display", "printer", "webhook"]
    address: str | None
    settings: dict[str, str] = Field(description=station_settings.description())
    backup_station_name: str | None = Field(
        description="The station that takes this one's work while it is failing.")
    health: StationHealth


class Delivery(Schema):
    """One attempt to send an order to a printer or webhook station."""
    id: int
    delivery_id: Guid = Field(description="Also the X-Orders-Delivery header: the same for "
                                          "every attempt of one delivery, new for a reprint.")
    order_id: Guid
    order_number: int
    kind: Literal["dispatch", "reprint"]
    attempt: int = Field(ge=1)
    started_date_utc: UtcDateTime
    duration_ms: int = Field(ge=0)
    status_code: int | None = Field(description="The HTTP status a webhook answered; null for "
                                                "printers and for failed connections.")
    ok: bool
    error: str | None


class Project(Schema):
    guid: Guid
    name: str
    product_code: str
    created_date_utc: UtcDateTime


class BasketLine(Schema):
    id: int
    project_guid: Guid | None
    product_code: str
    quantity: Number
    total: Number


class Basket(Schema):
    guid: Guid
    lines: list[BasketLine]
    created_date_utc: UtcDateTime
    last_saved_date_utc: UtcDateTime
    order_total: Number


EventType = StrEnum("EventType", {name.upper().replace(".", "_"): name for name in ET.ALL})
EventType.__doc__ = "What kind of change an event is (contract 8)."


class Actor(Schema):
    user_name: str = Field(description="Who made the change: a person's user name, or the "
                                       "name of a screen's link.")


class Event(Schema):
    """One change the hub made to an order."""
    sequence: int = Field(ge=1, description="Gap-free and increasing in the order the changes "
                                            "were committed: read on with `after=<sequence>`.")
    type: EventType
    occurred_date_utc: UtcDateTime
    actor: Actor | None = Field(description="Null for what the hub did by itself (a course "
                                            "that fired by itself).")
    order: Order = Field(description="The order as `GET /api/orders/{id}` served it right "
                                     "after the change; for `order.deleted`, its last state.")


class EventPage(Schema):
    """A page of the event feed."""
    items: list[Event]
    next: int = Field(ge=0, description="The cursor to read on from: the sequence of the last "
                                        "event answered, or `after` when there was none.")


class WebhookSubscription(Versioned):
    """A webhook subscription. Its `secret` is write-only and never part of an answer."""
    id: int
    url: str
    event_types: list[EventType]
    is_active: bool
    created_date_utc: UtcDateTime


class WebhookDelivery(Schema):
    """One event to post to one subscription, and what came of its attempts so far."""
    id: int
    delivery_id: Guid = Field(description="Also the X-Orders-Delivery header: the same on every "
                                          "attempt, new for a redelivery.")
    redelivery_of: Guid | None = Field(description="The delivery this one sends again.")
    sequence: int = Field(ge=1, description="The event's sequence (X-Orders-Sequence).")
    event_type: EventType
    order_id: Guid
    state: Literal["pending", "sending", "delivered", "failed"]
    attempts: int = Field(ge=0)
    next_try_date_utc: UtcDateTime | None
    last_try_date_utc: UtcDateTime | None
    last_status_code: int | None
    last_error: str | None
    requested_by: str | None = Field(description="Who asked for a redelivery.")
    created_date_utc: UtcDateTime
    finished_date_utc: UtcDateTime | None


T = TypeVar("T")


class QueryResult(Schema, Generic[T]):
    """A page of a list (contract 4.3)."""
    items: list[T]
    count: int = Field(ge=0, description="Items in this answer.")
    total_count: int = Field(ge=0, description="Items matching the filter.")


class OrderQueryResult(QueryResult[Order]):
    pass


class TicketQueryResult(QueryResult[Ticket]):
    pass


class Count(Schema):
    """The answer to `$count=true`: how many match, without the items."""
    count: int = Field(ge=0)
    total_count: int = Field(ge=0)


class SignedInUser(Schema):
    id: int
    user_name: str
    name: str
    rights: list[Right]
    device: DeviceRef | None


class TokenPair(Schema):
    token_id: str
    refresh_token: str
    expires_at: UtcDateTime
    user: SignedInUser


class ProblemError(Schema):
    member_name: str
    message: str
    code: str


class Problem(Schema):
    """RFC 7807 problem details (contract 4.5); never a stack trace or SQL."""
    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str
    trace_id: str | None = Field(description="Also the X-Request-Id header and the log's "
                                             "requestId.")
    # Optional members are `X | None`: their default (null) must be a value their schema allows.
    error_code: int | None = Field(None, description="1 Unauthenticated, 2 Unauthorized, "
                                                     "3 ValidationFailed, 5 ResourceLocked, "
                                                     "6 ResourceVersionMismatch.")
    errors: list[ProblemError] = Field(default_factory=list)
    current_version: int | None = Field(None, description="With errorCode 6: the stored "
                                                          "version.")


# What each route answers on success: (status, shape). A shape is a response model, a list of
# one, a union of alternatives, `dict` for a free-form object, or None for no body.
ANSWERS: dict[str, tuple[int, object]] = {
    "api.sign_in": (200, TokenPair),
    "api.refresh": (200, TokenPair),
    "api.signed_in_user": (200, SignedInUser),
    "api.sign_out": (204, None),
    "api.list_orders": (200, OrderQueryResult | Count),
    "api.get_order": (200, Order),
    "api.order_history": (200, list[HistoryEntry]),
    "api.process_orders": (200, list[Order]),
    "api.set_order_status": (200, Order),
    "api.set_order_rush": (200, Order),
    "api.set_item_status": (200, Order),
    "api.set_endpoint_status": (200, Order),
    "api.delete_order": (204, None),
    "api.list_tickets": (200, TicketQueryResult | Count),
    "api.get_ticket": (200, Ticket),
    "api.create_ticket": (201, WrittenTicket),
    "api.update_ticket": (200, WrittenTicket),
    "api.close_ticket": (200, Ticket),
    "api.list_products": (200, list[Product]),
    "api.get_product": (200, Product),
    "api.create_product": (201, Product),
    "api.update_product": (200, Product),
    "api.delete_product": (204, None),
    "api.list_stations": (200, list[Station]),
    "api.get_station": (200, Station),
    "api.create_station": (201, Station),
    "api.update_station": (200, Station),
    "api.delete_station": (204, None),
    "api.station_deliveries": (200, list[Delivery]),
    "api.reprint_order": (202, Order),
    "api.fire_course": (200, Order),
    "api.create_project": (201, Project),
    "api.list_projects": (200, list[Project]),
    "api.get_project": (200, Project),
    "api.delete_project": (204, None),
    "api.create_basket": (201, Basket),
    "api.list_baskets": (200, list[Basket]),
    "api.get_basket": (200, Basket),
    "api.delete_basket": (204, None),
    "api.add_basket_line": (201, Basket),
    "api.update_basket_line": (200, Basket),
    "api.delete_basket_line": (204, None),
    "api.checkout_basket": (201, Order),
    "api.openapi_description": (200, dict),
    "api.list_events": (200, EventPage),
    "api.list_webhooks": (200, list[WebhookSubscription]),
    "api.create_webhook": (201, WebhookSubscription),
    "api.get_webhook": (200, WebhookSubscription),
    "api.update_webhook": (200, WebhookSubscription),
    "api.delete_webhook": (204, None),
    "api.webhook_deliveries": (200, list[WebhookDelivery]),
    "api.create_redelivery": (202, WebhookDelivery),
}
