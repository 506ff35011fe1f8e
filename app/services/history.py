"""Recording an order's history (contract 5.4). Called inside the caller's transaction."""
from app.models import utcnow
from app.order_models import Order, OrderEvent


def record(order: Order, action: str, *, user_name: str | None, level: str | None = None,
           target: str | None = None, from_status: str | None = None,
           to_status: str | None = None, detail: str | None = None, at=None) -> OrderEvent:
    event = OrderEvent(action=action, level=level, target=target, from_status=from_status,
                       to_status=to_status, user_name=user_name, detail=detail,
                       at=at or utcnow())
    order.history.append(event)
    return event
