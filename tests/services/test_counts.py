"""The maintained counters (per status, isVoid, source and station) always equal a count of the
orders themselves."""
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.core import status as S
from app.core.query import Condition, Query, parse_query
from app.extensions import db
from app.models import Counter, Station
from app.models.orders import Order, OrderEntry
from app.services import baskets, counts, order_status, orders
from app.services.tickets import update_ticket
from tests.conftest import bearer, counted_statements, lines, make_ticket, make_user


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


# --- isVoid, source and station counters --------------------------------------------------------

def counter_rows() -> dict[str, int]:
    rows = db.session.execute(select(Counter.name, Counter.value)
                              .where(Counter.name.like("orders.%"))).all()
    return {name: value for name, value in rows if value}


def scanned_rows() -> dict[str, int]:
    """What counter_rows must say, counted from the orders themselves."""
    live = Order.deleted_at.is_(None)
    found = {counts.status_key(s): n for s, n in scanned().items()}
    for is_void, n in db.session.execute(select(Order.is_void, func.count()).where(live)
                                         .group_by(Order.is_void)):
        found[counts.void_key(is_void)] = n
    for source, n in db.session.execute(select(Order.source, func.count()).where(live)
                                        .group_by(Order.source)):
        found[counts.source_key(source)] = n
    for station_id, n in db.session.execute(
            select(OrderEntry.station_id, func.count()).join(Order).where(live)
            .group_by(OrderEntry.station_id)):
        found[counts.station_key(station_id)] = n
    return {name: value for name, value in found.items() if value}


def checkout(customer, code: str):
    basket = baskets.create_basket(user=customer)
    baskets.add_line(user=customer, guid=basket.guid, quantity=Decimal(2), product_code=code)
    return baskets.checkout_basket(user=customer, device=None, guid=basket.guid, currency="EUR",
                                   shipping_method="Standard", shipping_address=ADDRESS)


ADDRESS = {"firstName": "Ann", "lastName": "Lee", "line1": "Keizersgracht 1",
           "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL"}


def test_membership_counters_follow_orders_void_orders_baskets_and_deletion(
        app, catalog, waiter, manager, customer):
    ticket, (first,) = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1), ("BREAD", 1))
    # One less burger, one more cola: an order and a void order in one transaction.
    _, made = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Table 1",
                            lines=lines(("BURGER", 1), ("COLA", 2), ("BREAD", 1)))
    assert sorted(o.is_void for o in made) == [False, True]
    placed = checkout(customer, "FRIES")
    assert counter_rows() == scanned_rows()
    kitchen = db.session.scalar(select(Station.id).where(Station.name == "Kitchen"))
    assert counter_rows()[counts.station_key(kitchen)] == 3  # both burgers and the fries
    assert counter_rows()[counts.source_key("basket")] == 1
    assert counter_rows()[counts.void_key(True)] == 1
    order_status.set_order_status(user=manager, order_id=first.id, status=S.CANCELLED)
    orders.delete_order(user=manager, order_id=first.id)
    orders.delete_order(user=manager, order_id=placed.id)
    assert counter_rows() == scanned_rows()
    assert counts.source_key("basket") not in counter_rows()


COUNTED = ["", "status=New", "status=in:New,Cancelled", "isVoid=false", "isVoid=true",
           "isVoid=neq:true", "source=ticket", "source=in:ticket,basket", "source=basket",
           "endpointName=Kitchen", "endpointName=Bar", "endpointName=Nowhere",
           "endpointName=kitchen", "status=neq:New", "status=nin:Completed,Cancelled",
           "status=nin:New,Processing,Ready,Completed,Cancelled", "source=neq:basket",
           "source=nin:ticket"]
# Every live order (the counters) less the few of the other value, counted through an index,
# in one statement.
LESS_THE_FEW = ["isProcessed=true", "isProcessed=neq:false", "isProcessable=false",
                "isProcessable=neq:true"]
SCANNED = ["endpointName=neq:Kitchen", "endpointName=in:Kitchen,Bar",
           "isVoid=false&source=ticket", "endpointName=startswith:K", "isVoid=eq:null",
           "isProcessed=false", "isProcessable=true"]


@pytest.mark.parametrize("query_string", COUNTED + LESS_THE_FEW + SCANNED)
def test_a_count_from_counters_is_the_count_of_a_scan(app, catalog, waiter, manager, customer,
                                                      query_string):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1))
    update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Table 1",
                  lines=lines(("BURGER", 1), ("COLA", 1)))
    make_ticket(waiter, catalog, ("COLA", 3), name="Bar 2")
    deleted = make_ticket(waiter, catalog, ("FRIES", 1), name="Gone")[1][0]
    orders.delete_order(user=manager, order_id=deleted.id)
    checkout(customer, "FRIES")
    query = parse_query(MultiDict(parse_qsl(query_string)), orders.ORDER_QUERY)
    scan = db.session.scalar(orders._filtered(manager, query)
                             .with_only_columns(func.count()).order_by(None))
    with counted_statements() as statements:
        assert orders.count_orders(user=manager, query=query) == scan
    # A count from counters reads counter rows only.
    reads = [set(re.findall(r"FROM (\w+)", s)) for s in statements]
    from_counters = all(tables <= {"counters", "stations"} for tables in reads)
    assert from_counters == (query_string in COUNTED), statements
    less_the_few = len(reads) == 1 and {"counters", "orders"} <= reads[0]
    assert less_the_few == (query_string in LESS_THE_FEW), statements


@pytest.mark.slow
def test_counters_stay_exact_under_concurrent_writers(app, client, catalog, waiter, manager):
    """Ticket updates that make an order and a void order at once, status changes and
    deletions, all at the same time: the counters still equal a scan (and on PostgreSQL no
    deadlock between the creators and the deleters)."""
    waiter_headers, manager_headers = bearer(waiter, "POS-1"), bearer(manager)
    made = []
    for i in range(6):  # an order and a void order of each ticket, to delete or advance
        ticket, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1), name=f"D{i}")
        _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id,
                                   name=f"D{i}", lines=lines(("BURGER", 1)))
        made += [order.id, void.id]
    for order_id in made[:8]:  # deleted from another status than the one creation moves
        order_status.set_order_status(user=manager, order_id=order_id, status=S.PROCESSING)
    tickets = [client.post("/api/tickets", headers=waiter_headers, json={
        "name": f"T{i}", "items": [{"productCode": "COLA", "quantity": 1}]}).json["id"]
        for i in range(4)]

    def churn(ticket_id):
        def job():
            for n in range(6):
                # Swaps the product each time: an order of one, a void order of the other.
                code = "BURGER" if n % 2 == 0 else "COLA"
                r = client.put(f"/api/tickets/{ticket_id}", headers=waiter_headers, json={
                    "name": "T", "items": [{"productCode": code, "quantity": 1}]})
                assert r.status_code == 200, r.get_data(as_text=True)
        return job

    def remove(order_ids):
        def job():
            for order_id in order_ids:
                r = client.delete(f"/api/orders/{order_id}", headers=manager_headers)
                assert r.status_code == 204, r.get_data(as_text=True)
        return job

    def advance(order_ids):
        def job():
            for order_id in order_ids:
                r = client.post(f"/api/orders/{order_id}/status", headers=manager_headers,
                                json={"status": "Ready"})
                assert r.status_code in (200, 404), r.get_data(as_text=True)
        return job

    jobs = [churn(t) for t in tickets] + [remove(made[0:4]), remove(made[4:8]),
                                          advance(made[8:12] + made[0:2])]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    db.session.expire_all()
    assert counter_rows() == scanned_rows()
    assert counter_rows()[counts.void_key(True)] > 0
