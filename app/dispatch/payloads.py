"""What a claimed job sends: a slip's ESC/POS bytes, or a webhook's signed JSON body."""
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.serializers import order_json
from app.core import allergens, modifiers, order_types
from app.dispatch.slips import Slip, SlipLine, render_slip
from app.extensions import db
from app.models.dispatch import REPRINT
from app.models.orders import Order
from app.services.dispatch import Claimed


def _order(order_id: str) -> Order:
    return db.session.scalar(select(Order).where(Order.id == order_id).options(
        selectinload(Order.items), selectinload(Order.entries), selectinload(Order.cells)))


def slip_for(claimed: Claimed) -> bytes:
    """The station's slip: only the items routed to that station."""
    order = _order(claimed.order_id)
    item_ids = {c.item_id for c in order.cells if c.entry_id == claimed.entry_id}
    lines = tuple(SlipLine(quantity=i.quantity, name=i.name, note=i.note, course=i.course,
                           modifiers=tuple(modifiers.text(m) for m in i.modifiers),
                           allergies=tuple(allergens.labels(i.allergies)),
                           contains=tuple(allergens.labels(
                               a for a in i.allergies if a in i.allergens)))
                  for i in order.items if i.id in item_ids)
    entry = next((e for e in order.entries if e.id == claimed.entry_id), None)
    station = claimed.station_name
    if entry is not None and entry.station.name != station:
        station = f"{station} - for {entry.station.name}"  # handed over from its own station
    slip = Slip(number=order.number, station=station,
                label=order.customer_label, at=order.created_at, lines=lines, note=order.note,
                is_void=order.is_void, is_reprint=claimed.kind == REPRINT,
                is_rush=order.is_rush,
                order_type=order_types.LABELS.get(order.order_type, order.order_type))
    return render_slip(slip, claimed.settings)


def webhook_body(claimed: Claimed) -> bytes:
    """The order as the API serves it (GET /api/orders/{id})."""
    return current_app.json.dumps(order_json(_order(claimed.order_id))).encode()


def event_headers(claimed) -> dict[str, str]:
    """The headers of a delivery to a webhook subscription (app.services.webhooks): as a
    webhook station's, with the event's type and sequence."""
    return {"X-Orders-Delivery": claimed.delivery_id, "X-Orders-Event": claimed.event_type,
            "X-Orders-Attempt": str(claimed.attempt), "X-Orders-Sequence": str(claimed.sequence),
            "User-Agent": "orders-hub"}


def webhook_headers(claimed: Claimed) -> dict[str, str]:
    event = "order.reprint" if claimed.kind == REPRINT else "order.dispatch"
    return {"X-Orders-Delivery": claimed.delivery_id, "X-Orders-Event": event,
            "X-Orders-Attempt": str(claimed.attempt), "X-Orders-Station": claimed.station_name,
            "User-Agent": "orders-hub"}
