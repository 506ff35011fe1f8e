"""isRush and orderType through the API: ticket bodies, order answers, the rush route, the
order list's filters, a station's orderTypes setting and the OpenAPI description."""
from tests.conftest import bearer

PROBLEM = "application/problem+json"


def new_ticket(client, waiter, name, *items, **extra):
    r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": name, "items": [{"productCode": c, "quantity": q} for c, q in items], **extra})
    assert r.status_code == 201, r.json
    return r.json


def orders_of(client, manager, query=""):
    r = client.get(f"/api/orders?$sort=number{query}", headers=bearer(manager))
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_tickets_carry_rush_and_type_into_their_orders(client, catalog, waiter, manager):
    ticket = new_ticket(client, waiter, "Window", ("FRIES", 1), IsRush=True,
                        ordertype="TAKEOUT")
    assert (ticket["isRush"], ticket["orderType"]) == (True, "takeout")
    plain = new_ticket(client, waiter, "Table 1", ("COLA", 1))
    assert (plain["isRush"], plain["orderType"]) == (False, "dineIn")
    first, second = orders_of(client, manager)
    assert (first["isRush"], first["orderType"]) == (True, "takeout")
    assert (second["isRush"], second["orderType"]) == (False, "dineIn")

    # A full replacement that leaves them out keeps them; naming them changes them.
    r = client.put(f"/api/tickets/{ticket['id']}", headers=bearer(waiter, "POS-1"), json={
        "name": "Window", "items": [{"productCode": "FRIES", "quantity": 1}], "_v": 1})
    assert r.status_code == 200 and (r.json["isRush"], r.json["orderType"]) == (True, "takeout")
    r = client.put(f"/api/tickets/{ticket['id']}", headers=bearer(waiter, "POS-1"), json={
        "name": "Window", "items": [{"productCode": "FRIES", "quantity": 1}],
        "isRush": False, "orderType": "delivery"})
    assert r.status_code == 200, r.json
    assert (r.json["isRush"], r.json["orderType"], r.json["_v"]) == (False, "delivery", 2)
    assert client.get(f"/api/tickets/{ticket['id']}",
                      headers=bearer(waiter)).json["orderType"] == "delivery"
    listed = client.get("/api/tickets?orderType=delivery&isRush=false", headers=bearer(waiter))
    assert [t["name"] for t in listed.json["items"]] == ["Window"]


def test_an_unknown_order_type_answers_400_naming_the_member(client, catalog, waiter):
    for body in ({"orderType": "pickup"}, {"orderType": 3}):
        r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
            "name": "T", "items": [{"productCode": "COLA", "quantity": 1}], **body})
        assert r.status_code == 400 and r.content_type == PROBLEM
        assert r.json["errorCode"] == 3
        assert [e["memberName"] for e in r.json["errors"]] == ["orderType"]
    r = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": "T", "items": [], "isRush": "very"})
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "isRush"


def test_rush_route_honours_versions_rights_and_history(client, catalog, waiter, manager):
    new_ticket(client, waiter, "Table 1", ("BURGER", 1))
    order = orders_of(client, manager)[0]
    url = f"/api/orders/{order['id']}/rush"
    r = client.post(url, headers=bearer(manager), json={"isRush": True, "_v": order["_v"]})
    assert r.status_code == 200, r.json
    assert (r.json["isRush"], r.json["_v"]) == (True, order["_v"] + 1)
    assert r.headers["ETag"].startswith(f'"{order["_v"] + 1}-')

    # A stale version, in the body or as If-Match, changes nothing.
    r = client.post(url, headers=bearer(manager), json={"isRush": False, "_v": order["_v"]})
    assert r.status_code == 409 and r.json["errorCode"] == 6
    stale = {**bearer(manager), "If-Match": f'"{order["_v"]}-1"'}
    assert client.post(url, headers=stale, json={"isRush": False}).status_code == 409
    assert client.post(url, headers=bearer(waiter), json={"isRush": False}).status_code == 403
    r = client.post(url, headers=bearer(manager), json={"isrush": "maybe"})
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "isRush"
    r = client.post("/api/orders/00000000-0000-0000-0000-000000000000/rush",
                    headers=bearer(manager), json={"isRush": True})
    assert r.status_code == 404

    history = client.get(f"/api/orders/{order['id']}/history", headers=bearer(manager)).json
    assert [(h["action"], h["userName"]) for h in history if h["action"] == "rush"] == [
        ("rush", "manager")]
    r = client.post(url, headers=bearer(manager), json={"isRush": False})
    assert (r.json["isRush"], r.json["_v"]) == (False, order["_v"] + 2)


def test_the_order_list_filters_on_rush_and_type(client, catalog, waiter, manager):
    new_ticket(client, waiter, "A", ("COLA", 1))
    new_ticket(client, waiter, "B", ("COLA", 1), orderType="takeout", isRush=True)
    new_ticket(client, waiter, "C", ("COLA", 1), orderType="delivery")

    def names(query):
        return [o["ticket"]["name"] for o in orders_of(client, manager, query)]

    assert names("&isRush=true") == ["B"]
    assert names("&isRush=false") == ["A", "C"]
    assert names("&orderType=takeout") == ["B"]
    assert names("&orderType=in:takeout,DELIVERY") == ["B", "C"]
    assert names("&orderType=neq:dineIn&$sort=-orderType") == ["B", "C"]
    r = client.get("/api/orders?orderType=pickup", headers=bearer(manager))
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "orderType"
    r = client.get("/api/orders?orderType=takeout&$count=true", headers=bearer(manager))
    assert r.json == {"count": 1, "totalCount": 1}


def test_a_station_body_sets_the_order_types_it_takes(client, catalog, admin):
    headers = bearer(admin)
    r = client.post("/api/orderendpoints", headers=headers, json={
        "name": "Packing", "settings": {"orderTypes": "Delivery,takeout"}})
    assert r.status_code == 201, r.json
    assert r.json["settings"] == {"orderTypes": "takeout,delivery"}
    r = client.put("/api/orderendpoints/Packing", headers=headers, json={
        "name": "Packing", "settings": {"orderTypes": "takeout,pickup"}})
    assert r.status_code == 400 and r.content_type == PROBLEM
    assert r.json["errors"][0]["memberName"] == "settings.orderTypes"
    assert "pickup" in r.json["errors"][0]["message"]


def test_the_description_names_rush_and_order_type(client, manager):
    description = client.get("/api/openapi.json", headers=bearer(manager)).json
    schemas = description["components"]["schemas"]
    assert schemas["OrderType"]["enum"] == ["dineIn", "takeout", "delivery", "web"]
    for name in ("Order", "Ticket"):
        assert {"isRush", "orderType"} <= set(schemas[name]["properties"])
        assert {"isRush", "orderType"} <= set(schemas[name]["required"])
    assert {"isRush", "orderType"} <= set(schemas["TicketWrite"]["properties"])
    rush = description["paths"]["/api/orders/{order_id}/rush"]["post"]
    assert rush["x-right"] == "orderUpdate"
    assert rush["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RushChange"}
    assert {"If-Match"} <= {p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1]
                            for p in rush["parameters"]}
    listed = {p["name"] for p in description["paths"]["/api/orders"]["get"]["parameters"]
              if "name" in p}
    assert {"isRush", "orderType"} <= listed
