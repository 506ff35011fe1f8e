"""Web-shop orders: projects, baskets, lines and checkout, each visible only to its owner."""
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Counter
from app.models.baskets import Basket, BasketLine, Project
from app.models.orders import Order
from app.services import products
from tests.conftest import bearer, make_user

ADDRESS = {"firstName": "Ann", "lastName": "Lee", "line1": "Keizersgracht 1",
           "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL"}


@pytest.fixture
def shop(catalog):
    products.create_product(code="POSTER", name="Poster A2", price=Decimal("19.95"),
                            station_names=["Kitchen"])
    products.create_product(code="CARD", name="Greeting card", price=Decimal("2.45"),
                            station_names=["Pass"])
    return catalog


@pytest.fixture
def ann(app):
    return bearer(make_user("ann"), "web-shop")


@pytest.fixture
def bob(app):
    return bearer(make_user("bob"))


def start_basket(client, headers, *lines):
    basket = client.post("/api/basket", headers=headers)
    assert basket.status_code == 201
    guid = basket.json["guid"]
    for line in lines:
        r = client.post(f"/api/basket/{guid}/line", json=line, headers=headers)
        assert r.status_code == 201, r.json
    return guid


def make_project(client, headers, name="Holiday poster", code="POSTER"):
    r = client.post("/api/project", json={"name": name, "productCode": code}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json["guid"]


def counts():
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Basket, BasketLine, Order, Project)}


def test_project_basket_lines_checkout_to_placed_order(client, shop, ann):
    project = make_project(client, ann)
    assert client.get("/api/projects", headers=ann).json[0]["guid"] == project
    guid = start_basket(client, ann, {"ProjectGuid": project, "Quantity": 3},
                        {"productCode": "CARD", "quantity": 4})
    basket = client.get(f"/api/basket/{guid}", headers=ann).json
    assert [line["total"] for line in basket["lines"]] == [Decimal("59.85"), Decimal("9.8")]
    assert basket["orderTotal"] == Decimal("69.65")
    line_id = basket["lines"][1]["id"]
    r = client.put(f"/api/basket/{guid}/line/{line_id}", json={"productCode": "CARD",
                                                               "quantity": 5}, headers=ann)
    assert r.status_code == 200 and r.json["orderTotal"] == Decimal("72.1")

    r = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS,
        "discountTotal": 5, "shippingTotal": "4.95"})
    assert r.status_code == 201, r.json
    order = r.json
    assert order["source"] == "basket" and order["ticket"] is None
    assert (order["orderType"], order["isRush"]) == ("web", False)  # checkouts are web orders
    assert order["device"] == {"name": "web-shop"}
    assert (order["subTotal"], order["discountTotal"], order["shippingTotal"],
            order["orderTotal"]) == (Decimal("72.1"), 5, Decimal("4.95"), Decimal("72.05"))
    assert order["shippingMethod"] == "Standard"
    assert order["shippingAddress"]["city"] == "Amsterdam"
    assert order["shippingAddress"]["line2"] is None
    assert [(i["productCode"], i["quantity"], i["projectGuid"]) for i in order["items"]] == [
        ("POSTER", 3, project), ("CARD", 5, None)]
    assert [e["name"] for e in order["endpoints"]] == ["Kitchen", "Pass"]
    assert order["isProcessed"] is True

    listed = client.get("/api/orders", headers=ann).json
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert client.get(f"/api/order/{order['id']}", headers=ann).json == order
    by_project = client.get(f"/api/orders?projectGuid={project}", headers=ann).json
    assert by_project["totalCount"] == 1
    # The basket is gone: reading it or checking it out again answers 404.
    assert client.get(f"/api/basket/{guid}", headers=ann).status_code == 404
    again = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS})
    assert again.status_code == 404


def test_money_follows_the_currency_minor_unit(client, shop, ann):
    guid = start_basket(client, ann, {"productCode": "CARD", "quantity": 3})
    r = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "JPY", "shippingMethod": "Post", "shippingAddress": ADDRESS,
        "shippingTotal": 500})
    assert r.status_code == 201, r.json
    # 2.45 rounds half up to 2 yen a card; amounts are whole yen.
    assert (r.json["items"][0]["unitPrice"], r.json["subTotal"], r.json["orderTotal"]) == \
        (2, 6, 506)
    guid = start_basket(client, ann, {"productCode": "CARD", "quantity": 1})
    r = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "JPY", "shippingMethod": "Post", "shippingAddress": ADDRESS,
        "shippingTotal": "0.5"})
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "shippingTotal"


@pytest.mark.parametrize("change, members", [
    ({"currency": "XXX"}, ["currency"]),
    ({"currency": None}, ["currency"]),
    ({"shippingMethod": ""}, ["shippingMethod"]),
    ({"shippingAddress": {**ADDRESS, "city": "", "postalCode": None}},
     ["shippingAddress.city", "shippingAddress.postalCode"]),
    ({"shippingAddress": {**ADDRESS, "country": "Netherlands"}}, ["shippingAddress.country"]),
    ({"shippingAddress": None}, ["shippingAddress"]),
    ({"discountTotal": -1}, ["discountTotal"]),
    ({"discountTotal": 1000}, ["discountTotal"]),
    ({"currency": "EUR", "surprise": 1}, ["surprise"]),
])
def test_invalid_checkout_names_each_field_and_writes_nothing(client, shop, ann, change,
                                                              members):
    guid = start_basket(client, ann, {"productCode": "CARD", "quantity": 1})
    before = counts()
    number_before = db.session.scalar(select(Counter.value))
    body = {"currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS,
            **change}
    r = client.post(f"/api/basket/{guid}/checkout", headers=ann, json=body)
    assert r.status_code == 400, r.json
    assert r.json["errorCode"] == 3
    assert sorted(e["memberName"] for e in r.json["errors"]) == sorted(members)
    db.session.expire_all()
    assert counts() == before
    assert db.session.scalar(select(Counter.value)) == number_before


def test_empty_basket_cannot_be_checked_out(client, shop, ann):
    guid = start_basket(client, ann)
    r = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["lines"]
    assert client.get(f"/api/basket/{guid}", headers=ann).status_code == 200


@pytest.mark.parametrize("line, member", [
    ({"productCode": "CARD", "quantity": -1}, "quantity"),
    ({"productCode": "CARD", "quantity": 0}, "quantity"),
    ({"productCode": "NOPE", "quantity": 1}, "productCode"),
    ({"quantity": 1}, "productCode"),
    ({"projectGuid": "00000000-0000-4000-8000-000000000000", "quantity": 1}, "projectGuid"),
])
def test_invalid_lines_are_refused(client, shop, ann, line, member):
    guid = start_basket(client, ann)
    r = client.post(f"/api/basket/{guid}/line", json=line, headers=ann)
    assert r.status_code == 400
    assert member in [e["memberName"] for e in r.json["errors"]]
    assert client.get(f"/api/basket/{guid}", headers=ann).json["lines"] == []


def test_everything_is_owner_only(client, shop, ann, bob):
    project = make_project(client, ann)
    guid = start_basket(client, ann, {"projectGuid": project, "quantity": 1})
    line_id = client.get(f"/api/basket/{guid}", headers=ann).json["lines"][0]["id"]
    before = counts()
    # Bob (even as an admin) meets 404 on every one of Ann's objects, and changes nothing.
    for headers in (bob, bearer(make_user("boss", ["admin"]))):
        assert client.get(f"/api/project/{project}", headers=headers).status_code == 404
        assert client.delete(f"/api/project/{project}", headers=headers).status_code == 404
        assert client.get(f"/api/basket/{guid}", headers=headers).status_code == 404
        assert client.delete(f"/api/basket/{guid}", headers=headers).status_code == 404
        assert client.post(f"/api/basket/{guid}/line", json={"productCode": "CARD",
                           "quantity": 1}, headers=headers).status_code == 404
        assert client.put(f"/api/basket/{guid}/line/{line_id}", json={"productCode": "CARD",
                          "quantity": 9}, headers=headers).status_code == 404
        assert client.delete(f"/api/basket/{guid}/line/{line_id}",
                             headers=headers).status_code == 404
        assert client.post(f"/api/basket/{guid}/checkout", headers=headers, json={
            "currency": "EUR", "shippingMethod": "x",
            "shippingAddress": ADDRESS}).status_code == 404
        assert client.get("/api/projects", headers=headers).json == []
        assert client.get("/api/baskets", headers=headers).json == []
    # Nor can Bob put Ann's project into a basket of his own.
    bobs = start_basket(client, bob)
    r = client.post(f"/api/basket/{bobs}/line", json={"projectGuid": project, "quantity": 1},
                    headers=bob)
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "projectGuid"
    db.session.expire_all()
    after = counts()
    assert after == {**before, "baskets": before["baskets"] + 1}


def test_customers_see_only_their_own_placed_orders(client, shop, ann, bob, waiter):
    guid = start_basket(client, ann, {"productCode": "CARD", "quantity": 1})
    order = client.post(f"/api/basket/{guid}/checkout", headers=ann, json={
        "currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS}).json
    client.post("/api/tickets", json={"name": "T1", "items": [{"productCode": "COLA",
                "quantity": 1}]}, headers=bearer(waiter, "POS-1"))
    for query in ("", "?$count=true", "?source=basket", "?$sort=-orderTotal",
                  "?$include=history", f"?id={order['id']}", "?status=New"):
        r = client.get(f"/api/orders{query}", headers=bob)
        assert r.status_code == 200 and r.json["totalCount"] == 0, query
        r = client.get(f"/api/orders{query}", headers=ann)
        assert r.json["totalCount"] == 1, query
    assert client.get(f"/api/order/{order['id']}", headers=bob).status_code == 404
    assert client.get(f"/api/orders/{order['id']}/history", headers=bob).status_code == 404
    assert client.get(f"/api/order/{order['id']}", headers=bearer(make_user(
        "clerk", ["orderRead"]))).status_code == 200


def test_project_in_a_basket_cannot_be_deleted(client, shop, ann):
    project = make_project(client, ann)
    start_basket(client, ann, {"projectGuid": project, "quantity": 1})
    assert client.delete(f"/api/project/{project}", headers=ann).status_code == 409
    other = make_project(client, ann, "Spare")
    assert client.delete(f"/api/project/{other}", headers=ann).status_code == 204
    assert client.get(f"/api/project/{other}", headers=ann).status_code == 404


def test_two_simultaneous_checkouts_make_one_order(client, shop, ann):
    guid = start_basket(client, ann, {"productCode": "POSTER", "quantity": 2})
    body = {"currency": "EUR", "shippingMethod": "Standard", "shippingAddress": ADDRESS}

    def checkout():
        return client.post(f"/api/basket/{guid}/checkout", headers=ann, json=body).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(lambda _: checkout(), range(4)))
    assert codes == [201, 404, 404, 404]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(func.count()).select_from(Basket)) == 0
