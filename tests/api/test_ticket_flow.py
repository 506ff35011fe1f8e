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
