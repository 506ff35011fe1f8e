"""The event feed (contract 8): every change is an event, numbered gap-free in commit order,
with the order as the API served it; a customer's cursor shows only their own orders."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core import rights as R
from app.core import status as S
from app.extensions import db
from app.models import utcnow
from app.models.events import Event
from app.services import baskets, events, kiosk, products, stations
from tests.conftest import bearer, make_ticket, make_user

ADDRESS = {"firstName": "Ann", "lastName": "Lee", "line1": "Keizersgracht 1",
           "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL"}


def feed(client, headers, after=0, **params):
    r = client.get("/api/events", headers=headers, query_string={"after": after, **params})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.json


def read_all(client, headers, after=0, take=7, **params) -> list[dict]:
    found = []
    while True:
        page = feed(client, headers, after, **{"$take": take, **params})
        found += page["items"]
        if not page["items"]:
            assert page["next"] == after
            return found
        assert page["next"] == page["items"][-1]["sequence"]
        after = page["next"]


def test_every_change_is_an_event_with_the_order_as_served(client, catalog, waiter, manager):
    headers = bearer(manager)
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1), name="Table 7")
    served_new = client.get(f"/api/orders/{order.id}", headers=headers).json
    base = f"/api/orders/{order.id}"
    assert client.post(f"{base}/items/2/status", headers=headers,
                       json={"status": "Ready"}).status_code == 200
    assert client.post(f"{base}/endpoints/Kitchen/status", headers=headers,
                       json={"status": "Processing"}).status_code == 200
    done = client.post(f"{base}/status", headers=headers, json={"status": "Completed"}).json
    _, (other,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 8")
    assert client.post(f"/api/orders/{other.id}/status", headers=headers,
                       json={"status": "Cancelled"}).status_code == 200
    assert client.delete(base, headers=headers).status_code == 204

    found = read_all(client, headers)
    assert [(e["type"], e["order"]["number"]) for e in found] == [
        ("order.created", order.number), ("item.status_changed", order.number),
        ("station.status_changed", order.number), ("order.status_changed", order.number),
        ("order.completed", order.number), ("order.created", other.number),
        ("order.status_changed", other.number), ("order.cancelled", other.number),
        ("order.deleted", order.number)]
    assert [e["sequence"] for e in found] == list(range(1, 10))
    assert found[0]["order"] == served_new
    assert found[0]["actor"] == {"userName": "waiter"}
    assert {e["actor"]["userName"] for e in found[1:5]} == {"manager"}
    # Both events of one change show the order as that change left it, as its answer did.
    assert found[3]["order"] == found[4]["order"] == done
    # The deleted order is gone from the API, and its last event still carries it.
    assert client.get(base, headers=headers).status_code == 404
    assert found[-1]["order"]["id"] == order.id and found[-1]["order"]["status"] == "Completed"
    assert found[-1]["order"]["_v"] == done["_v"] + 1
    assert all(e["occurredDateUtc"].endswith("Z") for e in found)

    only = read_all(client, headers, type="order.completed,ORDER.CANCELLED")
    assert [e["type"] for e in only] == ["order.completed", "order.cancelled"]
    assert feed(client, headers, after=9) == {"items": [], "next": 9}


def test_courses_bumps_and_recalls_are_events(client, app, catalog, waiter, manager):
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings={"courseFiring": "held"})
    products.create_product(code="SOUP", name="Soup", price=Decimal("5.00"),
                            station_names=["Kitchen"], course=1)
    _, (order,) = make_ticket(waiter, catalog, ("SOUP", 1), ("BURGER", 1))
    headers = bearer(manager)
    assert client.post(f"/api/orders/{order.id}/courses/2/fire",
                       headers=headers).status_code == 200
    viewer = make_user("cook", [R.ORDER_READ, R.ORDER_UPDATE])
    kiosk.bump_entry(viewer=viewer, station_name="Kitchen", order_id=order.id)
    kiosk.recall_entry(viewer=viewer, station_name="Kitchen")
    types = [e["type"] for e in read_all(client, headers)]
    assert types == ["order.created", "course.fired", "station.status_changed",
                     "order.bumped", "station.status_changed", "order.recalled"]


def _checkout(customer, catalog):
    basket = baskets.create_basket(user=customer)
    baskets.add_line(user=customer, guid=basket.guid, quantity=Decimal(1), product_code="COLA")
    return baskets.checkout_basket(user=customer, device=None, guid=basket.guid,
                                   currency="EUR", shipping_method="Post",
                                   shipping_address=ADDRESS)


def test_a_customers_cursor_never_shows_another_users_order(client, catalog, waiter,
                                                            manager):
    ann, bob = make_user("ann"), make_user("bob")
    mine = []
    for round_ in range(3):
        make_ticket(waiter, catalog, ("FRIES", 1), name=f"Table {round_}")
        mine.append(_checkout(ann, catalog))
        _checkout(bob, catalog)
    staff = bearer(manager)
    assert client.post(f"/api/orders/{mine[1].id}/status", headers=staff,
                       json={"status": "Cancelled"}).status_code == 200
    client.delete(f"/api/orders/{mine[2].id}", headers=staff)

    for take in (1, 2, 50):
        seen = read_all(client, bearer(ann), take=take)
        assert {e["order"]["id"] for e in seen} == {o.id for o in mine}
        assert {e["order"]["user"]["userName"] for e in seen} == {"ann"}
        assert [e["type"] for e in seen].count("order.created") == 3
        assert "order.deleted" in [e["type"] for e in seen]
        assert [e["sequence"] for e in seen] == sorted(e["sequence"] for e in seen)
    # A cursor taken anywhere in the feed (a staff member's, say) still shows only hers.
    everything = read_all(client, staff)
    for event in everything:
        after = feed(client, bearer(ann), after=event["sequence"], **{"$take": 1000})
        assert {e["order"]["user"]["userName"] for e in after["items"]} <= {"ann"}
    assert len(everything) == 3 + 6 + 2 + 1  # tickets, checkouts, a cancel (two), a delete


def test_malformed_feed_queries_answer_400_naming_the_parameter(client, app, manager):
    headers = bearer(manager)
    for query, member in [("after=-1", "after"), ("after=x", "after"), ("$take=1001", "$take"),
                          ("type=order.nope", "type"), ("status=New", "status"),
                          ("after=1&AFTER=2", "after")]:
        r = client.get(f"/api/events?{query}", headers=headers)
        assert r.status_code == 400 and r.json["errorCode"] == 3, query
        assert [e["memberName"] for e in r.json["errors"]] == [member], query
    assert client.get("/api/events?AFTER=0&$TAKE=0&Type=order.created",
                      headers=headers).json == {"items": [], "next": 0}
    assert client.get("/api/events").status_code == 401


def test_events_older_than_the_retention_are_pruned(client, app, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("FRIES", 1))
    make_ticket(waiter, catalog, ("COLA", 1))
    db.session.execute(db.update(Event).where(Event.sequence == 1)
                       .values(occurred_at=utcnow() - timedelta(days=29)))
    db.session.commit()
    assert events.prune_events() == 1
    assert [e["sequence"] for e in read_all(client, bearer(manager))] == [2]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["prune-events", "--days", "0"])
    assert result.exit_code == 0, result.output
    assert "1 event" in result.output
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


@pytest.mark.slow
def test_the_feed_is_gap_free_and_ordered_under_concurrent_writers(client, app, catalog,
                                                                   waiter, manager):
    """Writers change orders in parallel threads (each request its own session) while a reader
    pages through the feed with its cursor: the reader sees every event exactly once, in
    sequence order, and the sequences have no gap."""
    orders = [make_ticket(waiter, catalog, ("BURGER", 1), ("FRIES", 1), ("COLA", 1),
                          name=f"Table {i}")[1][0] for i in range(6)]
    orders = [(o.id, o.number) for o in orders]  # the threads read no ORM object
    headers, waiter_headers = bearer(manager), bearer(waiter, "POS-1")
    created = len(orders)
    stop = threading.Event()

    def writer(order_id, number):
        def job():
            for item in (1, 2, 3):
                for status in (S.PROCESSING, S.READY):
                    r = client.post(f"/api/orders/{order_id}/items/{item}/status",
                                    json={"status": status}, headers=headers)
                    assert r.status_code == 200, r.get_data(as_text=True)[:200]
            r = client.post("/api/tickets", headers=waiter_headers, json={
                "name": f"Extra {number}", "items": [{"productCode": "COLA",
                                                           "quantity": 1}]})
            assert r.status_code == 201
        return job

    def reader():
        seen, after, deadline = [], 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            finished = stop.is_set()  # read once more after the writers are done
            page = feed(client, headers, after, **{"$take": 5})
            seen += [(e["sequence"], e["type"], e["order"]["id"]) for e in page["items"]]
            after = page["next"]
            if finished and not page["items"]:
                return seen
            time.sleep(0.002)
        raise AssertionError("the writers did not finish in time")

    with ThreadPoolExecutor(max_workers=len(orders) + 1) as pool:
        reading = pool.submit(reader)
        try:
            writing = [pool.submit(writer(*o)) for o in orders]
            for future in writing:
                future.result()
        finally:
            stop.set()
        seen = reading.result()

    sequences = [s for s, _, _ in seen]
    expected = created + len(orders) * (6 + 1)  # the first orders, 6 changes each, a ticket
    assert sequences == list(range(1, expected + 1))
    db.session.expire_all()
    assert db.session.scalar(select(func.max(Event.sequence))) == expected
    # Per order, the events came in the order its changes were made.
    for order_id, _ in orders:
        versions = [e for e in seen if e[2] == order_id]
        assert [t for _, t, _ in versions] == ["order.created"] + ["item.status_changed"] * 6
