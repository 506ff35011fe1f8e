"""Processing (contract 2.4): dispatching an order's undispatched entries to active stations.

Dispatching to a `display` station makes the entry visible on that station's screens, which is
recording that it was dispatched. Printer and webhook entries get a dispatch job instead, sent
after the transaction by app.dispatch (a slow printer must hold no lock and no request); the
entry counts as dispatched once the job has gone out. Processing never changes a cell.
"""
from sqlalchemy import select

from app.core import rights as R
from app.core import status as S
from app.core.errors import FieldError, Forbidden, Invalid, NotFound
from app.db.transactions import write_transaction
from app.models import User, utcnow
from app.models.orders import Order
from app.services import dispatch, history
from app.services.common import Outcome


def process_locked_order(order: Order, *, user_name: str | None) -> bool:
    """Dispatch what can be dispatched; the caller holds the order's lock, or is creating the
    order and has not written it yet (a NewOrder of app.services.order_rows, whose history
    lines and jobs are written with it). True if it changed."""
    if order.status == S.CANCELLED:
        return False
    now = utcnow()
    changed = False
    for entry in order.entries:
        station = entry.station
        if entry.processed_at is None and station.is_active and station.type == "display":
            entry.processed_at = now
            history.record(order, "dispatched", user_name=user_name, level="station",
                           target=entry.station.name, at=now,
                           detail=f"shown on {entry.station.name} screens")
            changed = True
    if dispatch.queue_locked_order(order, user_name=user_name, now=now):
        changed = True
    if changed:
        order.is_processed = all(e.processed_at is not None for e in order.entries)
        order.version += 1
        order.last_saved_at = now
    return changed


def process_orders(*, user: User, order_ids: list[str]) -> list[Order]:
    """Process the given orders; returns those that changed, in the order given.

    Raises Forbidden without orderProcess, Invalid naming each unknown id (nothing processed).
    """
    if not R.has_right(user.rights, R.ORDER_PROCESS):
        raise Forbidden("Processing orders needs the orderProcess right.")
    wanted = list(dict.fromkeys(order_ids))
    with write_transaction() as session:
        # Locking in id order keeps two concurrent calls from deadlocking on each other.
        found = {o.id: o for o in session.scalars(
            select(Order).where(Order.id.in_(wanted), Order.deleted_at.is_(None))
            .order_by(Order.id).with_for_update(key_share=True))}
        missing = [i for i, oid in enumerate(order_ids) if oid not in found]
        if missing:
            raise Invalid([FieldError(f"orderIds[{i}]", "No such order.") for i in missing])
        return [found[oid] for oid in wanted
                if process_locked_order(found[oid], user_name=user.user_name)]


def process_each(*, user: User, order_ids: list[str]):
    """Process each order on its own and say what came of it (the dashboard's batch button)."""
    from app.services.orders import get_order  # orders imports this module's neighbours

    if not R.has_right(user.rights, R.ORDER_PROCESS):
        raise Forbidden("Processing orders needs the orderProcess right.")
    outcomes = []
    for order_id in dict.fromkeys(order_ids):
        try:
            number = get_order(user=user, order_id=order_id).number
            changed = process_orders(user=user, order_ids=[order_id])
        except (Invalid, NotFound):
            outcomes.append(Outcome(order_id, None, "refused", "No such order."))
            continue
        if changed:
            outcomes.append(Outcome(order_id, number, "changed", "dispatched or queued"))
        else:
            outcomes.append(Outcome(order_id, number, "unchanged",
                                    "nothing to dispatch (already sent, cancelled, or its "
                                    "stations are off)"))
    return outcomes
