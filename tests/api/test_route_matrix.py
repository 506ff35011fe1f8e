"""The route x right matrix (contract 4.1, 4.4, 4.5), built from the URL map.

For every /api route and method: no token or a bad one answers 401 (errorCode 1) unless the route
is public; a signed-in user lacking the route's right answers 403 (errorCode 2); a user holding
exactly that right reaches the service. A new route is covered without being listed here, and
fails the first test until it declares its right with `guarded`.
"""
import re
import uuid

import pytest

from app.api.access import PUBLIC, SIGNED_IN, route_rights
from app.api.description import build_description
from app.core import rights as R
from app.services import users
from tests.conftest import PASSWORD, bearer, make_app, make_ticket, make_user

PROBLEM = "application/problem+json"


def _api_routes(flask_app) -> list[tuple[str, str, str]]:
    return sorted({(rule.rule, method, rule.endpoint)
                   for rule in flask_app.url_map.iter_rules() if rule.endpoint.startswith("api.")
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


ROUTES = _api_routes(make_app("sqlite://"))


def _refresh_body(_ctx) -> dict:
    _, token_id, refresh = users.sign_in(user_name="waiter", password=PASSWORD)
    return {"tokenId": token_id, "refreshToken": refresh}


def _status(_ctx) -> dict:
    return {"status": "Processing"}


# endpoint -> (body, the answer for: an anonymous caller of a public route, a user with no
# rights on a signedIn route, a user holding exactly the route's right otherwise).
EXPECTED = {
    "api.sign_in": (lambda c: {"userName": "waiter", "password": PASSWORD}, 200),
    "api.refresh": (_refresh_body, 200),
    "api.signed_in_user": (None, 200),
    "api.sign_out": (None, 204),
    "api.list_orders": (None, 200),
    "api.get_order": (None, 404),  # a customer sees only their own orders
    "api.order_history": (None, 404),
    "api.process_orders": (lambda c: {"orderIds": [c["order_id"]]}, 200),
    "api.set_order_status": (_status, 200),
    "api.set_order_rush": (lambda c: {"isRush": True}, 200),
    "api.set_item_status": (_status, 200),
    "api.set_endpoint_status": (_status, 200),
    "api.delete_order": (None, 204),
    "api.reprint_order": (None, 409),  # Kitchen is a display: nothing to reprint
    "api.fire_course": (None, 409),  # the burger's course 2 fired with the order
    "api.list_tickets": (None, 200),
    "api.get_ticket": (None, 200),
    "api.create_ticket": (lambda c: {"name": "Table 2",
                                     "items": [{"productCode": "COLA", "quantity": 1}]}, 201),
    "api.update_ticket": (lambda c: {"name": "Table 1",
                                     "items": [{"productCode": "BURGER", "quantity": 2}]}, 200),
    "api.close_ticket": (None, 200),
    "api.list_products": (None, 200),
    "api.get_product": (None, 200),
    "api.create_product": (lambda c: {"code": "SODA", "name": "Soda", "price": 2.5,
                                      "stationNames": ["Bar"]}, 201),
    "api.update_product": (lambda c: {"code": "BURGER", "name": "Big burger", "price": 13,
                                      "stationNames": ["Kitchen"]}, 200),
    "api.delete_product": (None, 204),
    "api.list_stations": (None, 200),
    "api.get_station": (None, 200),
    "api.create_station": (lambda c: {"name": "Grill"}, 201),
    "api.update_station": (lambda c: {"name": "Kitchen", "isActive": False}, 200),
    "api.delete_station": (None, 409),  # orders were routed to Kitchen
    "api.station_deliveries": (None, 200),
    # The web shop: a user's own projects and baskets; a guid that is not theirs is 404.
    "api.create_project": (lambda c: {"name": "Poster", "productCode": "BURGER"}, 201),
    "api.list_projects": (None, 200),
    "api.get_project": (None, 404),
    "api.delete_project": (None, 404),
    "api.create_basket": (None, 201),
    "api.list_baskets": (None, 200),
    "api.get_basket": (None, 404),
    "api.delete_basket": (None, 404),
    "api.add_basket_line": (lambda c: {"productCode": "COLA", "quantity": 1}, 404),
    "api.update_basket_line": (lambda c: {"productCode": "COLA", "quantity": 2}, 404),
    "api.delete_basket_line": (None, 404),
    "api.checkout_basket": (lambda c: {"currency": "EUR", "shippingMethod": "Post"}, 404),
    "api.openapi_description": (None, 200),
    "api.list_events": (None, 200),  # a customer's feed: their own orders' events, none here
    "api.list_webhooks": (None, 200),
    "api.create_webhook": (lambda c: {"url": "https://example.com/hook",
                                      "eventTypes": ["order.created"],
                                      "secret": "sixteen-characters"}, 201),
    "api.get_webhook": (None, 404),  # no subscription 1
    "api.update_webhook": (lambda c: {"url": "https://example.com/hook",
                                      "eventTypes": ["order.created"]}, 404),
    "api.delete_webhook": (None, 404),
    "api.webhook_deliveries": (None, 404),
    "api.create_redelivery": (None, 404),
}
# Reading tickets is declared signedIn, but the ticket service serves only users holding a
# ticket right: a user with none answers 403. Named here so the matrix states it.
TICKET_READS = {"api.list_tickets", "api.get_ticket"}

ANONYMOUS = [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer "},
             {"Authorization": "not-a-token"}]


def _url(rule: str, ctx: dict) -> str:
    def fill(match):
        converter, name = match.group(1), match.group(2)
        if name in ctx:
            return str(ctx[name])
        return "1" if converter == "int" else str(uuid.uuid4())

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule)


def assert_problem(response, status: int, error_code: int | None) -> None:
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == PROBLEM
    assert response.json["status"] == status
    assert response.json.get("errorCode") == error_code


def test_the_openapi_description_has_exactly_the_routes_of_the_url_map():
    """Every route in the description exists, and every route that exists is described, with
    the right this matrix tests it against."""
    flask_app = make_app("sqlite://")
    doc = build_description(flask_app)
    described = {(path, method.upper(), operation["x-right"])
                 for path, item in doc["paths"].items() for method, operation in item.items()}
    routed = {(re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule), method,
               route_rights[endpoint]) for rule, method, endpoint in ROUTES}
    assert described == routed
    assert len(described) == len(ROUTES)


def test_every_api_route_declares_its_right():
    endpoints = {endpoint for _, _, endpoint in ROUTES}
    assert endpoints, "no /api routes found"
    assert endpoints - set(route_rights) == set()
    assert set(EXPECTED) == endpoints, "every route needs its expected answer in EXPECTED"
    allowed = {PUBLIC, SIGNED_IN, *R.ALL}
    assert {e: r for e, r in route_rights.items() if r not in allowed} == {}
    # Only sign-in and refresh may be reached without a token (contract 4).
    assert sorted(e for e, r in route_rights.items() if r == PUBLIC) == ["api.refresh",
                                                                         "api.sign_in"]


@pytest.mark.parametrize("rule,method,endpoint", ROUTES,
                         ids=[f"{m} {r}" for r, m, _ in ROUTES])
def test_route_answers_by_right(client, catalog, waiter, rule, method, endpoint):
    ticket, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    ctx = {"order_id": order.id, "item_id": 1, "endpoint_name": "Kitchen", "name": "Kitchen",
           "ticket_id": ticket.id, "code": "BURGER", "course": 2}
    url, right = _url(rule, ctx), route_rights[endpoint]
    body_of, expected = EXPECTED[endpoint]

    def call(headers):
        return client.open(url, method=method, headers=headers,
                           json=body_of(ctx) if body_of else None)

    if right == PUBLIC:
        for headers in ANONYMOUS:
            response = call(headers)
            assert response.status_code == (expected or response.status_code), response.json
            assert response.status_code not in (401, 403), response.json
        return
    for headers in ANONYMOUS:
        assert_problem(call(headers), 401, 1)
    if right == SIGNED_IN:
        if endpoint in TICKET_READS:
            assert_problem(call(bearer(make_user(rights=[]))), 403, 2)
            holder = make_user(rights=[R.TICKET_CREATE])
        else:
            holder = make_user(rights=[])
    else:
        lacking = make_user(rights=[r for r in R.ALL if r not in (right, R.ADMIN)])
        assert_problem(call(bearer(lacking)), 403, 2)
        holder = make_user(rights=[right])
    response = call(bearer(holder))
    assert response.status_code not in (401, 403), response.json
    if expected is not None:
        assert response.status_code == expected, response.json


def test_a_user_without_order_rights_never_learns_of_others_orders(client, catalog, waiter,
                                                                   customer):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    paths = [f"/api/orders/{order.id}", f"/api/order/{order.id}",
             f"/api/orders/{order.id}/history"]
    reader = bearer(make_user(rights=[R.ORDER_READ]))
    assert [client.get(p, headers=reader).status_code for p in paths] == [200, 200, 200]
    headers = bearer(customer)
    for path in paths:
        assert_problem(client.get(path, headers=headers), 404, None)
    listed = client.get("/api/orders", headers=headers)
    assert listed.status_code == 200
    assert listed.json == {"items": [], "count": 0, "totalCount": 0}
    counted = client.get("/api/orders?$count=true&id=" + order.id, headers=headers)
    assert counted.json == {"count": 0, "totalCount": 0}


def test_a_ticket_creator_sees_the_orders_they_created_and_no_others(client, catalog, waiter):
    creator = make_user(rights=[R.TICKET_CREATE])
    headers = bearer(creator, "POS-1")
    created = client.post("/api/tickets", headers=headers, json={
        "name": "Table 7", "items": [{"productCode": "COLA", "quantity": 2}]})
    assert created.status_code == 201, created.json
    _, (other,) = make_ticket(waiter, catalog, ("BURGER", 1), name="Table 9")

    listed = client.get("/api/orders", headers=headers)
    assert listed.status_code == 200
    assert listed.json["totalCount"] == 1
    (own,) = listed.json["items"]
    assert own["ticket"]["id"] == created.json["id"]
    assert own["user"]["userName"] == creator.user_name
    assert client.get(f"/api/orders/{own['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/orders/{own['id']}/history", headers=headers).status_code == 200
    for path in (f"/api/orders/{other.id}", f"/api/order/{other.id}",
                 f"/api/orders/{other.id}/history"):
        assert_problem(client.get(path, headers=headers), 404, None)
