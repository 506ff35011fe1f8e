"""Webhook stations (contract 2.2, 2.4): the order JSON, signed with the station's secret, retried
after failures under one delivery id, and a delivery log that matches what the receiver saw."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.dispatch.worker import dispatcher_for
from app.extensions import db
from app.models.orders import Order, OrderEvent
from app.services import products, stations
from tests.conftest import bearer, make_ticket, make_user
from tests.dispatch_fakes import WebhookReceiver
from tests.web.helpers import sign_in

SECRET = "s3cret-signing-key-for-tests"


@pytest.fixture
def hook_station(app, catalog):
    def make(receiver):
        stations.create_station(name="Delivery app", type="webhook", address=receiver.url,
                                secret=SECRET)
        products.create_product(code="PIZZA", name="Pizza", price=Decimal("11.00"),
                                station_names=["Delivery app", "Kitchen"])
    return make


def settle(app):
    dispatcher_for(app).drain()
    db.session.commit()
    db.session.expire_all()


def test_a_delivery_is_the_signed_order_json_retried_after_500s(
        app, hook_station, waiter, catalog, client):
    admin = make_user("root", ["admin"])
    with WebhookReceiver(SECRET, statuses=[500, 500, 200]) as receiver:
        hook_station(receiver)
        _, (order,) = make_ticket(waiter, catalog, ("PIZZA", 2), name="Table 3")
        settle(app)
        received = receiver.wait_for(3)

    assert [r.status for r in received] == [500, 500, 200]
    assert all(r.signature_ok for r in received)
    # One delivery, three attempts: the receiver can tell a retry from a new delivery.
    assert len({r.delivery_id for r in received}) == 1 and received[0].delivery_id
    assert [r.headers["X-Orders-Attempt"] for r in received] == ["1", "2", "3"]
    assert {r.headers["X-Orders-Event"] for r in received} == {"order.dispatch"}
    body = json.loads(received[-1].body)
    served = client.get(f"/api/orders/{order.id}", headers=bearer(admin)).json
    assert body["id"] == served["id"] and body["number"] == order.number
    assert body["items"] == served["items"]
    assert [e["name"] for e in body["endpoints"]] == [e["name"] for e in served["endpoints"]]
    assert served["isProcessed"] is True

    log = client.get("/api/orderendpoints/Delivery app/deliveries", headers=bearer(admin))
    assert log.status_code == 200
    newest_first = log.json
    assert [d["statusCode"] for d in newest_first] == [200, 500, 500]
    assert [d["ok"] for d in newest_first] == [True, False, False]
    assert [d["attempt"] for d in newest_first] == [3, 2, 1]
    assert {d["deliveryId"] for d in newest_first} == {received[0].delivery_id}
    assert {d["orderNumber"] for d in newest_first} == {order.number}
    assert all(d["durationMs"] >= 0 and d["startedDateUtc"].endswith("Z") for d in newest_first)
    history = [e.detail for e in db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.target == "Delivery app",
        OrderEvent.action.in_(["dispatch failed", "dispatched"])).order_by(OrderEvent.id))]
    assert "HTTP 500" in history[0] and "attempt 1 of 3" in history[0]
    assert history[-1] == "delivered to Delivery app"

    other = make_user("cook", ["orderRead"])
    assert client.get("/api/orderendpoints/Delivery app/deliveries",
                      headers=bearer(other)).status_code == 403


def test_a_wrong_secret_is_detected_by_the_receiver(app, hook_station, waiter, catalog):
    with WebhookReceiver("another-secret-entirely", statuses=[]) as receiver:
        hook_station(receiver)
        make_ticket(waiter, catalog, ("PIZZA", 1))
        settle(app)
        [seen] = receiver.wait_for(1)
    assert seen.signature_ok is False


def test_a_receiver_that_keeps_failing_leaves_the_order_processable(
        app, hook_station, waiter, catalog, client):
    manager = make_user("boss", ["orderRead", "orderProcess"])
    with WebhookReceiver(SECRET, statuses=[503, 503, 503, 200]) as receiver:
        hook_station(receiver)
        _, (order,) = make_ticket(waiter, catalog, ("PIZZA", 1))
        settle(app)
        assert len(receiver.wait_for(3)) == 3
        answer = client.get(f"/api/orders/{order.id}", headers=bearer(manager)).json
        assert answer["isProcessable"] is True
        gave_up = db.session.scalars(select(OrderEvent.detail).where(
            OrderEvent.order_id == order.id, OrderEvent.action == "dispatch failed")).all()
        assert "gave up after 3 attempts" in gave_up[-1]

        client.post("/api/orders", json={"orderIds": [order.id]}, headers=bearer(manager))
        settle(app)
        received = receiver.wait_for(4)
    assert received[-1].status == 200 and len(received) == 4
    assert db.session.get(Order, order.id).is_processed


def test_the_admin_page_shows_the_delivery_log(app, hook_station, waiter, catalog, client):
    admin = make_user("root", ["admin"])
    with WebhookReceiver(SECRET, statuses=[500]) as receiver:
        hook_station(receiver)
        _, (order,) = make_ticket(waiter, catalog, ("PIZZA", 1))
        settle(app)
        [failed, ok] = receiver.wait_for(2)
    sign_in(client, admin)
    page = client.get("/admin/stations/Delivery app")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count(f"#{order.number}") == 2
    assert ok.delivery_id in html and failed.status == 500 and "HTTP 500" in html
    assert SECRET not in html  # write-only
