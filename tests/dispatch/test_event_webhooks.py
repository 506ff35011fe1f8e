"""Webhook subscriptions (contract 8): a receiver on loopback gets every event of its types
once, signed, retried under one delivery id after failures, in sequence order per order, and
again on request (a redelivery, under a new delivery id)."""
import json

from sqlalchemy import select

from app.dispatch.worker import dispatcher_for
from app.extensions import db
from app.models.events import WebhookSubscription
from tests.conftest import bearer, make_ticket, make_user
from tests.dispatch_fakes import WebhookReceiver
from tests.web.helpers import sign_in

SECRET = "integrator-signing-secret"
ALL_TYPES = ["order.created", "order.status_changed", "item.status_changed",
             "station.status_changed", "course.fired", "order.bumped", "order.recalled",
             "order.cancelled", "order.completed", "order.deleted"]


def settle(app):
    dispatcher_for(app).drain()
    db.session.commit()
    db.session.expire_all()


def subscribe(client, headers, url, types=ALL_TYPES):
    r = client.post("/api/webhooks", headers=headers,
                    json={"url": url, "eventTypes": types, "secret": SECRET})
    assert r.status_code == 201, r.json
    assert "secret" not in r.json and SECRET not in r.get_data(as_text=True)
    return r.json


def feed(client, headers):
    # Read as the receiver reads its bodies (plain json: numbers as floats).
    return json.loads(client.get("/api/events?$take=1000", headers=headers).get_data())["items"]


def test_a_receiver_sees_every_event_once_signed(app, client, catalog, waiter):
    admin = bearer(make_user("root", ["admin"]))
    make_ticket(waiter, catalog, ("COLA", 1), name="Before")  # before the subscription
    with WebhookReceiver(SECRET) as receiver:
        subscription = subscribe(client, admin, receiver.url)
        _, (first,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
        _, (second,) = make_ticket(waiter, catalog, ("FRIES", 1))
        for path, status in [(f"{first.id}/items/1/status", "Ready"),
                             (f"{first.id}/status", "Completed"),
                             (f"{second.id}/status", "Cancelled")]:
            assert client.post(f"/api/orders/{path}", headers=admin,
                               json={"status": status}).status_code == 200
        assert client.delete(f"/api/orders/{second.id}", headers=admin).status_code == 204
        settle(app)
        expected = [e for e in feed(client, admin) if e["sequence"] > 1]
        received = receiver.wait_for(len(expected))
        settle(app)  # nothing more goes out
        assert len(receiver.wait_for(len(expected))) == len(expected) == 8

    assert all(r.signature_ok for r in received)
    assert len({r.delivery_id for r in received}) == len(received)  # each event once
    bodies = [json.loads(r.body) for r in received]
    by_sequence = sorted(bodies, key=lambda b: b["sequence"])
    for body, event in zip(by_sequence, expected, strict=True):
        assert body == event
    assert [r.headers["X-Orders-Event"] for r in received] == [b["type"] for b in bodies]
    assert [r.headers["X-Orders-Sequence"] for r in received] == \
        [str(b["sequence"]) for b in bodies]
    assert {r.attempt for r in received} == {"1"}
    for order in (first, second):  # per order, in sequence order
        sequences = [b["sequence"] for b in bodies if b["order"]["id"] == order.id]
        assert sequences == sorted(sequences)
    log = client.get(f"/api/webhooks/{subscription['id']}/deliveries", headers=admin).json
    assert [d["state"] for d in log] == ["delivered"] * 8
    assert sorted(d["deliveryId"] for d in log) == sorted(r.delivery_id for r in received)


def test_failures_are_retried_under_one_delivery_id_and_hold_back_that_order(
        app, client, catalog, waiter):
    admin = bearer(make_user("root", ["admin"]))
    with WebhookReceiver(SECRET, statuses=[500, 503, 200]) as receiver:
        subscribe(client, admin, receiver.url, ["order.created", "order.status_changed"])
        _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
        assert client.post(f"/api/orders/{order.id}/status", headers=admin,
                           json={"status": "Processing"}).status_code == 200
        settle(app)
        received = receiver.wait_for(4)

    assert [r.status for r in received] == [500, 503, 200, 200]
    assert all(r.signature_ok for r in received)
    created, changed = received[:3], received[3]
    # Three attempts of one delivery, and the order's next event only after it went through.
    assert len({r.delivery_id for r in created}) == 1
    assert [r.attempt for r in created] == ["1", "2", "3"]
    assert [r.headers["X-Orders-Event"] for r in received] == \
        ["order.created"] * 3 + ["order.status_changed"]
    assert changed.delivery_id != created[0].delivery_id
    subscription = db.session.scalar(select(WebhookSubscription))
    log = client.get(f"/api/webhooks/{subscription.id}/deliveries", headers=admin).json
    assert [(d["eventType"], d["state"], d["attempts"], d["lastStatusCode"]) for d in log] == [
        ("order.status_changed", "delivered", 1, 200), ("order.created", "delivered", 3, 200)]


def test_a_delivery_that_fails_past_the_retry_period_is_failed(app, client, catalog, waiter):
    app.config["WEBHOOK_RETRY_HOURS"] = 0  # the first failure is past it
    admin = bearer(make_user("root", ["admin"]))
    with WebhookReceiver(SECRET, statuses=[500]) as receiver:
        subscription = subscribe(client, admin, receiver.url, ["order.created",
                                                               "order.cancelled"])
        _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
        client.post(f"/api/orders/{order.id}/status", headers=admin,
                    json={"status": "Cancelled"})
        settle(app)
        received = receiver.wait_for(2)
    assert [r.status for r in received] == [500, 200]
    log = client.get(f"/api/webhooks/{subscription['id']}/deliveries", headers=admin).json
    assert [(d["eventType"], d["state"]) for d in log] == [("order.cancelled", "delivered"),
                                                           ("order.created", "failed")]
    assert log[1]["lastError"] == "HTTP 500" and log[1]["nextTryDateUtc"] is None


def test_a_redelivery_on_request_through_the_api_and_the_admin_page(
        app, client, catalog, waiter, monkeypatch):
    root = make_user("root", ["admin"])
    admin = bearer(root)
    with WebhookReceiver(SECRET) as receiver:
        subscription = subscribe(client, admin, receiver.url, ["order.created"])
        make_ticket(waiter, catalog, ("FRIES", 1))
        settle(app)
        [first] = receiver.wait_for(1)
        base = f"/api/webhooks/{subscription['id']}/deliveries"
        r = client.post(f"{base}/{first.delivery_id}/redeliver", headers=admin)
        assert r.status_code == 202, r.json
        assert r.json["redeliveryOf"] == first.delivery_id and r.json["state"] == "pending"
        settle(app)
        [_, again] = receiver.wait_for(2)
        assert client.post(f"{base}/{first.delivery_id}/redeliver",
                           headers=bearer(make_user("cook", ["orderRead"]))).status_code == 403
        assert client.post(f"{base}/not-a-delivery/redeliver",
                           headers=admin).status_code == 404

        sign_in(client, root)
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        page = client.get(f"/admin/webhooks/{subscription['id']}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and first.delivery_id in html and "Redeliver" in html
        assert SECRET not in html
        action = f"/admin/webhooks/{subscription['id']}/deliveries/{first.delivery_id}/redeliver"
        assert client.post(action).status_code == 400  # no CSRF token: refused
        token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        posted = client.post(action, data={"csrf_token": token})
        assert posted.status_code in (302, 303)
        settle(app)
        received = receiver.wait_for(3)

    assert json.loads(again.body) == json.loads(first.body)
    assert again.delivery_id != first.delivery_id and again.signature_ok
    assert received[2].delivery_id not in (first.delivery_id, again.delivery_id)
    assert json.loads(received[2].body)["sequence"] == json.loads(first.body)["sequence"]
    assert all(r.signature_ok for r in received)


def test_subscriptions_are_admin_only_and_checked(app, client, catalog):
    admin = bearer(make_user("root", ["admin"]))
    for body, member in [({"url": "ftp://x", "eventTypes": ["order.created"],
                           "secret": SECRET}, "url"),
                         ({"url": "https://x.example", "eventTypes": [], "secret": SECRET},
                          "eventTypes"),
                         ({"url": "https://x.example", "eventTypes": ["order.nope"],
                           "secret": SECRET}, "eventTypes"),
                         ({"url": "https://x.example", "eventTypes": ["order.created"],
                           "secret": "short"}, "secret")]:
        r = client.post("/api/webhooks", headers=admin, json=body)
        assert r.status_code == 400, body
        assert [e["memberName"] for e in r.json["errors"]] == [member]
    made = subscribe(client, admin, "https://x.example/hook", ["order.created"])
    r = client.put(f"/api/webhooks/{made['id']}", headers=admin, json={
        "url": "https://y.example/hook", "eventTypes": ["order.deleted"], "isActive": False,
        "_v": made["_v"]})
    assert r.status_code == 200 and r.json["eventTypes"] == ["order.deleted"]
    assert r.json["isActive"] is False
    stale = client.put(f"/api/webhooks/{made['id']}", headers=admin, json={
        "url": "https://y.example/hook", "eventTypes": ["order.deleted"], "_v": made["_v"]})
    assert stale.status_code == 409 and stale.json["errorCode"] == 6
    stored = db.session.scalar(select(WebhookSubscription))
    assert SECRET not in stored.encrypted_secret  # encrypted at rest
    assert client.get("/api/webhooks", headers=bearer(make_user("cook", ["orderRead"]))
                      ).status_code == 403
    assert client.delete(f"/api/webhooks/{made['id']}", headers=admin).status_code == 204
    assert client.get("/api/webhooks", headers=admin).json == []


def test_the_admin_page_adds_a_webhook(app, client, catalog):
    sign_in(client, make_user("root", ["admin"]))
    page = client.get("/admin/webhooks")
    assert page.status_code == 200 and "Add a webhook" in page.get_data(as_text=True)
    r = client.post("/admin/webhooks", data={"url": "https://x.example/hook",
                                             "event_types": ["order.created", "order.deleted"],
                                             "secret": SECRET, "is_active": "y"})
    assert r.status_code in (302, 303)
    stored = db.session.scalar(select(WebhookSubscription))
    assert stored.event_types == ["order.created", "order.deleted"]
    refused = client.post("/admin/webhooks", data={"url": "nope", "event_types": [],
                                                   "secret": "x"})
    assert refused.status_code == 422
