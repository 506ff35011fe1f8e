"""Modifiers and allergens through the API: the members of tickets, orders and products, the
400s naming the member, and the OpenAPI description."""
from decimal import Decimal

from app.api import schemas
from tests.conftest import bearer

PROBLEM = "application/problem+json"
BURGER = {"productCode": "BURGER", "quantity": 1, "note": "no onions",
          "modifiers": [{"name": " Extra  cheese", "quantity": 2}, {"name": "Bacon"}],
          "allergies": ["Milk", "sesame"]}


def test_tickets_and_their_orders_carry_modifiers_and_allergies(client, catalog, waiter,
                                                                manager, admin):
    r = client.put("/api/products/BURGER", headers=bearer(admin), json={
        "code": "BURGER", "name": "Burger", "price": 12.5, "stationNames": ["Kitchen"],
        "allergens": ["gluten", "MILK"]})
    assert r.status_code == 200, r.json
    assert r.json["allergens"] == ["gluten", "milk"]
    schemas.Product.model_validate(r.json)

    r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 4", "items": [BURGER, {"productCode": "BURGER", "quantity": 1}]})
    assert r.status_code == 201, r.json
    schemas.WrittenTicket.model_validate(r.json)
    assert r.json["items"][0]["modifiers"] == [{"name": "Bacon", "quantity": 1},
                                               {"name": "Extra cheese", "quantity": 2}]
    assert r.json["items"][0]["allergies"] == ["milk", "sesame"]
    assert r.json["items"][1]["modifiers"] == [] and r.json["items"][1]["allergies"] == []
    ticket = r.json
    (made,) = ticket["generatedOrders"]
    order = client.get(f"/api/orders/{made['id']}", headers=bearer(manager)).json
    schemas.Order.model_validate(order)
    modified, plain = order["items"]
    assert modified["modifiers"] == [{"name": "Bacon", "quantity": 1},
                                     {"name": "Extra cheese", "quantity": 2}]
    assert (modified["allergies"], modified["allergens"]) == (["milk", "sesame"],
                                                              ["gluten", "milk"])
    assert (plain["modifiers"], plain["allergies"]) == ([], [])

    # The same modifiers sent in another order and spelling: nothing new to make.
    again = {**BURGER, "modifiers": [{"name": "Bacon", "quantity": 1.0},
                                     {"name": "Extra cheese", "quantity": 2}],
             "allergies": ["sesame", "milk"]}
    r = client.put(f"/api/tickets/{ticket['id']}", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 4", "items": [again, {"productCode": "BURGER", "quantity": 1}]})
    assert r.status_code == 200 and r.json["generatedOrders"] == []
    # The modified burger taken away: a void order of exactly that line.
    r = client.put(f"/api/tickets/{ticket['id']}", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 4", "items": [{"productCode": "BURGER", "quantity": 1}]})
    (void,) = r.json["generatedOrders"]
    items = client.get(f"/api/orders/{void['id']}", headers=bearer(manager)).json["items"]
    assert [(i["quantity"], len(i["modifiers"]), i["allergies"]) for i in items] == [
        (Decimal(-1), 2, ["milk", "sesame"])]


def test_unknown_allergens_answer_400_naming_the_member(client, catalog, waiter, admin):
    r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 4", "items": [{"productCode": "BURGER", "quantity": 1,
                                      "allergies": ["milk", "shellfish"]}]})
    assert r.status_code == 400 and r.content_type == PROBLEM
    assert [e["memberName"] for e in r.json["errors"]] == ["items[0].allergies[1]"]
    r = client.post("/api/products", headers=bearer(admin), json={
        "code": "PAD", "name": "Pad thai", "price": 9, "allergens": ["peanut"]})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["allergens[0]"]
    r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 4", "items": [{"productCode": "BURGER", "quantity": 1,
                                      "modifiers": [{"name": " ", "quantity": 0}]}]})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["items[0].modifiers[0].name",
                                                           "items[0].modifiers[0].quantity"]
    assert client.get("/api/tickets", headers=bearer(waiter)).json["totalCount"] == 0


def test_the_description_names_modifiers_and_allergens(client, manager):
    schemas_ = client.get("/api/openapi.json", headers=bearer(manager)).json[
        "components"]["schemas"]
    assert schemas_["Allergen"]["enum"] == [
        "gluten", "crustaceans", "eggs", "fish", "peanuts", "soybeans", "milk", "nuts",
        "celery", "mustard", "sesame", "sulphites", "lupin", "molluscs"]
    for name, members in (("OrderItem", {"modifiers", "allergies", "allergens"}),
                          ("TicketItem", {"modifiers", "allergies"}),
                          ("Product", {"allergens"})):
        assert members <= set(schemas_[name]["required"]), name
    assert {"modifiers", "allergies"} <= set(schemas_["TicketLine"]["properties"])
    assert schemas_["ModifierWrite"]["properties"]["quantity"]["default"] == 1
    assert "allergens" in schemas_["ProductWrite"]["properties"]
