"""Rush: an order the floor must hurry comes first on every station's screen and the expo's."""
from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, FieldError, Forbidden, Invalid
from app.db.transactions import write_transaction
from app.models import User, utcnow
from app.models.orders import Order
from app.services import history
from app.services.common import check_version
from app.services.orders import lock_visible_order


def set_order_rush(*, user: User, order_id: str, is_rush, version: int | None = None) -> Order:
    """Mark the order rush, or clear the mark. A change bumps the order's `_v`, moves the change
    counter (screens redraw) and is written to its history with who made it; setting what the
    order has already changes nothing. Needs orderUpdate, as a status change does.
    A Completed or Cancelled order cannot be marked.
    Raises Forbidden, Invalid, Conflict, NotFound, VersionMismatch."""
    if not R.has_right(user.rights, R.ORDER_UPDATE):
        raise Forbidden("Marking an order rush needs the orderUpdate right.")
    if not isinstance(is_rush, bool):
        raise Invalid([FieldError("isRush", "isRush is true or false.")])
    with write_transaction() as session:
        order = lock_visible_order(session, user=user, order_id=order_id)
        check_version(order.version, version)
        if is_rush and not order.is_rush and order.status in (S.COMPLETED, S.CANCELLED):
            # Nothing is left to hurry; clearing a mark stays allowed.
            raise Conflict(f"Order {order.number} is {order.status}: there is nothing left to "
                           "rush.", "isRush")
        if order.is_rush != is_rush:
            now = utcnow()
            order.is_rush = is_rush
            order.version += 1
            order.last_saved_at = now
            history.record(order, "rush" if is_rush else "rush cleared",
                           user_name=user.user_name, level="order",
                           target=f"order {order.number}",
                           detail="marked rush" if is_rush else "rush cleared", at=now)
    return order
