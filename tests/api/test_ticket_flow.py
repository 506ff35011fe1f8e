from decimal import Decimal

from tests.conftest import bearer


def test_ticket_to_order_through_the_api(client, catalog, waiter, manager):
    headers = bearer(waiter, "POS-1")
    r = client.post("/api/tickets", json={"name": "Table 4", "items": [
        {"productCode": "BURGER", "quantity": 2}, {"productcode": "COLA", "QUANTITY": 1}]},
        headers=headers)
    assert r.status_code == 201, r.json
    ticket = r.json
    r = client.get("/api/orders", headers=bearer(manager))
    assert r.status_code == 200, r.json
    assert r.json["totalCount"] == 1
    order = r.json["items"][0]
    assert order["ticket"] == {"id": ticket["id"], "name": "Table 4"}
    assert order["orderTotal"] == Decimal("28.2")
    assert [e["name"] for e in order["endpoints"]] == ["Kitchen", "Bar", "Pass"]
    assert order["isProcessed"] is True
    r = client.get(f"/api/orders/{order['id']}", headers=bearer(manager))
    assert r.status_code == 200 and r.headers["ETag"].startswith('"%d-' % order["_v"])


def test_ticket_writes_name_the_orders_they_generated(client, catalog, waiter, manager):
    headers = bearer(waiter, "POS-1")
    made = client.post("/api/tickets", headers=headers, json={"name": "Table 5", "items": [
        {"productCode": "BURGER", "quantity": 2}]})
    assert made.status_code == 201, made.json
    (first,) = made.json["generatedOrders"]
    assert first["isVoid"] is False
    order = client.get(f"/api/orders/{first['id']}", headers=bearer(manager)).json
    assert order["number"] == first["number"] and order["ticket"]["id"] == made.json["id"]
    # One more cola, one burger less: an order of what was added and a void order.
    changed = client.put(f"/api/tickets/{made.json['id']}", headers=headers, json={
        "name": "Table 5", "items": [{"productCode": "BURGER", "quantity": 1},
                                     {"productCode": "COLA", "quantity": 1}]})
    assert changed.status_code == 200, changed.json
    added, void = changed.json["generatedOrders"]
    assert (added["isVoid"], void["isVoid"]) == (False, True)
    assert first["number"] < added["number"] < void["number"]
    for generated in (added, void):
        order = client.get(f"/api/orders/{generated['id']}", headers=bearer(manager)).json
        assert (order["number"], order["isVoid"]) == (generated["number"], generated["isVoid"])
    # Nothing changed: nothing generated. A read of the ticket names no orders.
    same = client.put(f"/api/tickets/{made.json['id']}", headers=headers, json={
        "name": "Table 5", "items": [{"productCode": "BURGER", "quantity": 1},
                                     {"productCode": "COLA", "quantity": 1}]})
    assert same.status_code == 200 and same.json["generatedOrders"] == []
    assert "generatedOrders" not in client.get(f"/api/tickets/{made.json['id']}",
                                               headers=headers).json
