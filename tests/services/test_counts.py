"""The maintained per-status counters always equal a count of the orders themselves."""
from sqlalchemy import func, select

from app import status as S
from app.extensions import db
from app.order_models import Order
from app.query import Condition, Query
from app.services import counts, order_status, orders
from tests.conftest import make_ticket, make_user


def scanned() -> dict[str, int]:
    rows = db.session.execute(select(Order.status, func.count())
                              .where(Order.deleted_at.is_(None)).group_by(Order.status)).all()
    return {s: dict(rows).get(s, 0) for s in S.ALL}


def test_counters_follow_creation_moves_and_deletion(app, catalog, waiter, manager):
    made = [make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1), name=f"T{i}")[1][0]
            for i in range(6)]
    assert counts.live_counts() == scanned() == {**dict.fromkeys(S.ALL, 0), S.NEW: 6}
    order_status.set_order_status(user=manager, order_id=made[0].id, status=S.READY)
    order_status.set_item_status(user=manager, order_id=made[1].id, item_id=1,
                                 status=S.COMPLETED)  # the order stays New: the cola isn't
    order_status.set_entry_status(user=manager, order_id=made[2].id, station_name="Bar",
                                  status=S.CANCELLED)
    order_status.set_order_status(user=manager, order_id=made[3].id, status=S.CANCELLED)
    orders.delete_order(user=manager, order_id=made[4].id)
    assert counts.live_counts() == scanned()


def test_counts_and_totals_use_the_counters_only_when_nothing_is_filtered(app, catalog,
                                                                           waiter, manager):
    make_ticket(waiter, catalog, ("COLA", 1))
    everything = Query((), (), 0, 100, False, frozenset())
    by_status = Query((Condition("status", "in", (S.NEW, S.READY)),), (), 0, 100, False,
                      frozenset())
    assert orders.count_orders(user=manager, query=everything) == 1
    assert orders.count_orders(user=manager, query=by_status) == 1
    # A user who sees only their own orders is counted from the orders, not the counters.
    stranger = make_user("stranger")
    assert orders.count_orders(user=stranger, query=everything) == 0
    assert orders.count_by_status(user=stranger, query=everything)[S.NEW] == 0
