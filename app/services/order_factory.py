"""Creating orders: numbers, items, station entries, cells and the first history line.

Used by ticket updates and (later) basket checkouts, always inside their write transaction.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update

from app import money
from app import status as S
from app.errors import FieldError, Invalid
from app.models import Counter, Station, Ticket, User, utcnow
from app.order_models import Order, OrderCell, OrderEntry, OrderItem
from app.services import counts, history
from app.services.counts import ORDER_NUMBER
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


@dataclass
class OrderSpec:
    source: str
    user: User
    items: list[ItemSpec]
    currency: str
    device_name: str | None = None
    ticket: Ticket | None = None
    is_void: bool = False
    discount_total: Decimal = Decimal("0")
    shipping_total: Decimal = Decimal("0")
    shipping_method: str | None = None
    shipping_address: dict | None = None
    note: str | None = None
    created_at: object = field(default=None)


def next_order_numbers(session, count: int = 1) -> int:
    """Reserve `count` consecutive order numbers and return the first.

    The counter row is updated in place, so on PostgreSQL concurrent creators queue on its row
    lock and on SQLite on the write lock: no two orders ever get the same number.
    """
    last = session.execute(
        update(Counter).where(Counter.name == ORDER_NUMBER)
        .values(value=Counter.value + count).returning(Counter.value)
    ).scalar_one()
    return last - count + 1


def create_order(session, spec: OrderSpec) -> Order:
    """Add the order to the session; Invalid if its amounts do not fit the money columns."""
    now = spec.created_at or utcnow()
    totals = [money.quantize(i.quantity * i.unit_price, spec.currency) for i in spec.items]
    sub_total = sum(totals, Decimal("0"))
    if any(abs(t) >= money.LIMIT for t in totals + [sub_total + spec.shipping_total]):
        raise Invalid([FieldError("items", "The order's amounts are too large.")])
    discount = money.quantize(spec.discount_total, spec.currency)
    shipping = money.quantize(spec.shipping_total, spec.currency)
    order = Order(
        number=next_order_numbers(session), version=1, source=spec.source,
        ticket_id=spec.ticket.id if spec.ticket else None,
        ticket_name=spec.ticket.name if spec.ticket else None,
        device_name=spec.device_name, user_id=spec.user.id,
        user_user_name=spec.user.user_name, user_name=spec.user.name, status=S.NEW,
        is_processed=False, is_void=spec.is_void, currency=spec.currency,
        sub_total=sub_total, discount_total=discount, shipping_total=shipping,
        order_total=sub_total - discount + shipping, shipping_method=spec.shipping_method,
        shipping_address=spec.shipping_address, note=spec.note,
        created_at=now, last_saved_at=now,
    )
    session.add(order)
    entries: dict[int, OrderEntry] = {}
    station_ids = sorted({sid for item in spec.items for sid in item.station_ids})
    stations = {s.id: s for s in
                session.scalars(select(Station).where(Station.id.in_(station_ids)))}
    for sid in station_ids:
        entries[sid] = OrderEntry(station=stations[sid])
        order.entries.append(entries[sid])
    for number, item_spec in enumerate(spec.items, start=1):
        item = OrderItem(
            item_no=number, product_code=item_spec.product_code, name=item_spec.name,
            quantity=item_spec.quantity, unit_price=item_spec.unit_price,
            total=totals[number - 1],
            note=item_spec.note, course=item_spec.course, project_guid=item_spec.project_guid,
        )
        order.items.append(item)
        for sid in dict.fromkeys(item_spec.station_ids):
            order.cells.append(OrderCell(item=item, entry=entries[sid], status=S.NEW))
    session.flush()
    counts.add_orders(session, counts.membership(status=S.NEW, is_void=spec.is_void,
                                                 source=spec.source, station_ids=station_ids))
    detail = "void order" if spec.is_void else None
    if spec.ticket is not None:
        detail = f"{'void order' if spec.is_void else 'order'} from ticket {spec.ticket.name}"
    history.record(order, "created", user_name=spec.user.user_name, detail=detail, at=now)
    if current_app.config["AUTO_PROCESS"]:
        process_locked_order(order, user_name=spec.user.user_name)
    return order
