"""Creating orders: numbers, items, station entries, cells and the first history line.

Used by ticket updates and basket checkouts, always inside their write transaction. The order is
built and processed in memory as plain values, then written with one plain INSERT per table
(app.services.order_rows): ORM objects for the same rows cost several times the statements.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.core import event_types, money
from app.core import order_types as OT
from app.core import status as S
from app.core.errors import FieldError, Invalid
from app.models import Station, Ticket, User, new_ordered_guid, utcnow
from app.models.orders import Order
from app.services import counts, courses, events, history, order_rows
from app.services.counts import ORDER_NUMBER  # noqa: F401 (app.seed takes it from here)
from app.services.order_rows import NewEntry, NewItem, NewOrder
from app.services.processing import process_locked_order


@dataclass
class ItemSpec:
    product_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    station_ids: list[int]
    note: str | None = None
    course: int | None = None
    project_guid: str | None = None
    prep_seconds: int | None = None
    modifiers: tuple = ()  # canonical (app.core.modifiers)
    allergies: tuple = ()  # the guest's allergen codes
    allergens: tuple = ()  # the product's


@dataclass
class OrderSpec:
    source: str
    user: User  # or anything with its id, user_name and name
    items: list[ItemSpec]
    currency: str
    device_name: str | None = None
    ticket: Ticket | None = None
    is_void: bool = False
    is_rush: bool = False
    order_type: str = OT.DEFAULT
    discount_total: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)
    shipping_method: str | None = None
    shipping_address: dict | None = None
    note: str | None = None
    created_at: object = field(default=None)


def _stations(session, station_ids, known: dict | None) -> dict:
    """The stations by id: those the caller loaded in this transaction, the rest in one query."""
    found = {sid: known[sid] for sid in station_ids if known and sid in known}
    missing = [sid for sid in station_ids if sid not in found]
    if missing:
        found.update((s.id, s) for s in
                     session.scalars(select(Station).where(Station.id.in_(missing))))
    return found


def create_order(session, spec: OrderSpec, *, stations: dict | None = None) -> Order:
    """Write the order, processed when AUTO_PROCESS is on, and return it as a persistent object
    of the session. `stations` may hold the stations of the items by id
    (Station objects, or anything with their id, name, type and is_active), read in this
    transaction or checked in it. Raises Invalid if the amounts or quantities do not fit their
    columns."""
    now = spec.created_at or utcnow()
    # A ticket's lines of one product add up to one item, which can pass what one line may ask.
    if any(abs(i.quantity) >= money.QUANTITY_LIMIT for i in spec.items):
        raise Invalid([FieldError("items", "An item's quantity is too large: the lines of one "
                                           "product add up to 10^11 or more.")])
    totals = [money.quantize(i.quantity * i.unit_price, spec.currency) for i in spec.items]
    sub_total = sum(totals, Decimal(0))
    if any(abs(t) >= money.LIMIT for t in totals + [sub_total + spec.shipping_total]):
        raise Invalid([FieldError("items", "The order's amounts are too large.")])
    discount = money.quantize(spec.discount_total, spec.currency)
    shipping = money.quantize(spec.shipping_total, spec.currency)
    station_ids = sorted({sid for item in spec.items for sid in item.station_ids})
    stations = _stations(session, station_ids, stations)
    order = NewOrder(
        columns=dict(
            id=new_ordered_guid(), number=None, version=1, source=spec.source,
            ticket_id=spec.ticket.id if spec.ticket else None,
            ticket_name=spec.ticket.name if spec.ticket else None,
            device_name=spec.device_name, user_id=spec.user.id,
            user_user_name=spec.user.user_name, user_name=spec.user.name, status=S.NEW,
            is_processed=False, is_void=spec.is_void, is_rush=spec.is_rush,
            order_type=spec.order_type, currency=spec.currency,
            sub_total=sub_total, discount_total=discount, shipping_total=shipping,
            order_total=sub_total - discount + shipping, shipping_method=spec.shipping_method,
            shipping_address=spec.shipping_address, note=spec.note,
            created_at=now, last_saved_at=now, completed_at=None, ready_at=None,
            deleted_at=None),
        entries=[NewEntry(station=stations[sid]) for sid in station_ids],
        items=[NewItem(item_no=item_no, product_code=i.product_code, name=i.name,
                       quantity=i.quantity, unit_price=i.unit_price, total=totals[item_no - 1],
                       note=i.note, course=i.course, project_guid=i.project_guid,
                       prep_seconds=i.prep_seconds, modifiers=i.modifiers,
                       allergies=i.allergies, allergens=i.allergens)
               for item_no, i in enumerate(spec.items, start=1)],
    )
    detail = "void order" if spec.is_void else None
    if spec.ticket is not None:
        detail = f"{'void order' if spec.is_void else 'order'} from ticket {spec.ticket.name}"
    history.record(order, "created", user_name=spec.user.user_name, detail=detail, at=now)
    events.add(order, event_types.ORDER_CREATED, actor=spec.user.user_name, at=now)
    held = courses.fire_new_order(
        order.items, {item_no: [stations[sid] for sid in i.station_ids]
                      for item_no, i in enumerate(spec.items, start=1)},
        is_void=spec.is_void, now=now)
    if held:
        history.record(order, "fired", user_name=spec.user.user_name, level="course",
                       target=f"course {courses.first_course(order.items)}", at=now,
                       detail="with the order; held: " + ", ".join(f"course {c}" for c in held))
    # Processing a new order changes only what is still in memory: it is written whole below.
    if current_app.config["AUTO_PROCESS"]:
        process_locked_order(order, user_name=spec.user.user_name)
    # The number and the counters last, just before the rows go in: their rows are every
    # creator's, held until commit, so nothing that can be done before taking them waits after.
    connection = session.connection()
    counts.add_new_order(connection, counts.membership(
        status=S.NEW, is_void=spec.is_void, source=spec.source, station_ids=station_ids))
    return order_rows.write_new_order(session, connection, order, cells=[
        (item_no, sid) for item_no, i in enumerate(spec.items, start=1)
        for sid in dict.fromkeys(i.station_ids)])
