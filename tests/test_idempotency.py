"""Idempotency-Key on the creating POST routes (app.http.idempotency): a retry creates nothing new."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.api.schemas import ANSWERS
from app.extensions import db
from app.http.idempotency import ENDPOINTS, IdempotencyKey
from app.models import Product, Station, Ticket, utcnow
from app.models.baskets import Basket, BasketLine, Project
from app.models.orders import Order
from tests.conftest import PASSWORD, bearer, make_user

PROBLEM = "application/problem+json"
TICKET = {"name": "Table 5", "items": [{"productCode": "BURGER", "quantity": 2}]}
ADDRESS = {"firstName": "Ada", "lastName": "Lovelace", "line1": "1 Analytical St",
           "city": "London", "postalCode": "N1 1AA", "country": "GB"}


def count(model) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model))


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def test_every_creating_post_route_takes_a_key():
    creating = {endpoint for endpoint, (status, _) in ANSWERS.items() if status == 201}
    assert ENDPOINTS == creating


def test_a_retried_ticket_creates_one_ticket_and_one_order(client, catalog, waiter):
    headers = keyed(bearer(waiter, "POS-1"), "ticket-7f3a")
    first = client.post("/api/tickets", json=TICKET, headers=headers)
    again = client.post("/api/tickets", json=TICKET, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Ticket) == 1 and count(Order) == 1


def test_member_order_and_spacing_do_not_make_another_request(client, catalog, waiter):
    headers = keyed(bearer(waiter), "k-1")
    body = b'{"name": "Table 5", "items": [{"productCode": "BURGER", "quantity": 2}]}'
    same = b'{"items":[{"quantity":2,"productCode":"BURGER"}],"name":"Table 5"}'
    assert client.post("/api/tickets", data=body, headers=headers,
                       content_type="application/json").status_code == 201
    again = client.post("/api/tickets", data=same, headers=headers,
                        content_type="application/json")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert count(Ticket) == 1


def test_a_retried_basket_line_and_checkout_create_one_line_and_one_order(client, catalog,
                                                                          customer):
    headers = bearer(customer)
    basket = client.post("/api/basket", headers=keyed(headers, "basket-1")).json
    assert client.post("/api/basket", headers=keyed(headers, "basket-1")).json == basket
    assert count(Basket) == 1

    line = {"productCode": "COLA", "quantity": 3}
    path = f"/api/basket/{basket['guid']}/line"
    first = client.post(path, json=line, headers=keyed(headers, "line-1"))
    again = client.post(path, json=line, headers=keyed(headers, "line-1"))
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and len(first.json["lines"]) == 1
    assert count(BasketLine) == 1

    checkout = {"currency": "EUR", "shippingMethod": "Post", "shippingAddress": ADDRESS}
    path = f"/api/basket/{basket['guid']}/checkout"
    placed = client.post(path, json=checkout, headers=keyed(headers, "checkout-1"))
    assert placed.status_code == 201, placed.json
    # The basket is gone now; without the key a retry would be a 404 and the client would not
    # know whether its order was placed.
    again = client.post(path, json=checkout, headers=keyed(headers, "checkout-1"))
    assert again.status_code == 201 and again.json["id"] == placed.json["id"]
    assert client.post(path, json=checkout, headers=headers).status_code == 404
    assert count(Order) == 1


@pytest.mark.parametrize("endpoint,path,body,model", [
    ("api.create_product", "/api/products",
     {"code": "SODA", "name": "Soda", "price": 2.5, "stationNames": ["Bar"]}, Product),
    ("api.create_station", "/api/orderendpoints", {"name": "Grill"}, Station),
    ("api.create_project", "/api/project", {"name": "Poster", "productCode": "BURGER"},
     Project),
])
def test_the_catalog_and_projects_create_once_per_key(client, catalog, admin, endpoint, path,
                                                      body, model):
    assert endpoint in ENDPOINTS
    headers = keyed(bearer(admin), f"{endpoint}-1")
    before = count(model)
    answers = [client.post(path, json=body, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[1].json == answers[2].json == answers[0].json
    assert count(model) == before + 1


def test_the_same_key_for_another_request_is_refused_with_422(client, catalog, waiter):
    headers = keyed(bearer(waiter), "reused")
    assert client.post("/api/tickets", json=TICKET, headers=headers).status_code == 201
    other = {**TICKET, "name": "Table 6"}
    r = client.post("/api/tickets", json=other, headers=headers)
    assert r.status_code == 422 and r.mimetype == PROBLEM
    assert r.json["errorCode"] == 3
    assert r.json["errors"][0]["memberName"] == "Idempotency-Key"
    # Another route is another request too.
    assert client.post("/api/basket", headers=headers).status_code == 422
    assert count(Ticket) == 1 and count(Basket) == 0


def test_keys_belong_to_their_user(client, catalog, waiter):
    other = make_user("waiter-2", ["ticketCreate"])
    for user in (waiter, other):
        r = client.post("/api/tickets", json=TICKET, headers=keyed(bearer(user), "shared"))
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert count(Ticket) == 2


def test_without_a_key_every_post_creates(client, catalog, waiter):
    for _ in range(2):
        assert client.post("/api/tickets", json=TICKET, headers=bearer(waiter)).status_code == 201
    assert count(Ticket) == 2


def test_an_error_is_not_remembered_so_a_corrected_retry_runs(client, catalog, waiter):
    headers = keyed(bearer(waiter), "fix-and-retry")
    bad = {"name": "Table 5", "items": [{"productCode": "NOPE", "quantity": 1}]}
    assert client.post("/api/tickets", json=bad, headers=headers).status_code == 400
    assert count(IdempotencyKey) == 0
    assert client.post("/api/tickets", json=TICKET, headers=headers).status_code == 201
    assert count(Ticket) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünïcode"])
def test_a_malformed_key_is_a_400(client, catalog, waiter, key):
    r = client.post("/api/tickets", json=TICKET,
                    headers={**bearer(waiter), "Idempotency-Key": key.encode().decode("latin-1")})
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "Idempotency-Key"
    assert count(Ticket) == 0


def test_an_expired_key_may_be_used_again(client, catalog, waiter):
    headers = keyed(bearer(waiter), "old")
    assert client.post("/api/tickets", json=TICKET, headers=headers).status_code == 201
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    r = client.post("/api/tickets", json=TICKET, headers=headers)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert count(Ticket) == 2 and count(IdempotencyKey) == 1


def test_signing_in_ignores_the_header(client, waiter):
    body = {"userName": "waiter", "password": PASSWORD}
    first = client.post("/api/auth", json=body, headers={"Idempotency-Key": "k"})
    second = client.post("/api/auth", json=body, headers={"Idempotency-Key": "k"})
    assert first.json["tokenId"] != second.json["tokenId"]


def test_twins_racing_with_one_key_create_one_ticket(app, catalog, waiter):
    """Retries sent at once (a client timing out and retrying while the first is still running)."""
    headers = keyed(bearer(waiter), "racing")
    db.session.commit()
    answers, barrier = [], threading.Barrier(4)

    def send():
        client = app.test_client()  # a request of its own thread: its own app context
        barrier.wait()
        answers.append(client.post("/api/tickets", json=TICKET, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [201] * 4, [a.json for a in answers]
    assert len({a.json["id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 3
    assert count(Ticket) == 1 and count(Order) == 1
