"""Recording an order's history (contract 5.4). Called inside the caller's transaction.

Every change to an order writes a history line, so this is also where the change counter moves:
screens poll that one row to learn whether anything changed (contract 5.2). It lives in the
database, so a change made by any server process is seen by every other.
"""
from sqlalchemy import select, update

from app.extensions import db
from app.models import Counter, utcnow
from app.order_models import Order, OrderEvent

CHANGES = "changes"


def record(order: Order, action: str, *, user_name: str | None, level: str | None = None,
           target: str | None = None, from_status: str | None = None,
           to_status: str | None = None, detail: str | None = None, at=None) -> OrderEvent:
    event = OrderEvent(action=action, level=level, target=target, from_status=from_status,
                       to_status=to_status, user_name=user_name, detail=detail,
                       at=at or utcnow())
    order.history.append(event)
    db.session.execute(update(Counter).where(Counter.name == CHANGES)
                       .values(value=Counter.value + 1))
    return event


def change_stamp() -> int:
    """The number of order changes so far; a screen whose stamp differs must refresh."""
    return db.session.scalar(select(Counter.value).where(Counter.name == CHANGES)) or 0
