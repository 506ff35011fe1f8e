"""POST /api/orders/{id}/courses/{course}/fire, the fields of courses that fire in answers, and
products' prepSeconds."""
import pytest

from app.api.description import build_description
from tests.conftest import bearer, make_user
from tests.course_menu import order_courses, set_up_menu

PROBLEM = "application/problem+json"


@pytest.fixture
def device(app):
    return set_up_menu()


def fire(client, order_id, course, headers, **kwargs):
    return client.post(f"/api/orders/{order_id}/courses/{course}/fire", headers=headers,
                       **kwargs)


def test_firing_a_course_answers_the_order_with_its_new_version(client, device, waiter,
                                                                manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "SALAD")
    headers = bearer(manager)
    before = client.get(f"/api/orders/{order.id}", headers=headers)
    items = {i["productCode"]: i for i in before.json["items"]}
    assert items["SOUP"]["firedDateUtc"] == before.json["createdDateUtc"]
    assert items["SOUP"]["startDateUtc"] == before.json["createdDateUtc"]
    assert items["STEAK"]["firedDateUtc"] is None and items["STEAK"]["startDateUtc"] is None
    # A held item is refused a start: problem+json, errorCode 3, and nothing changes.
    refused = client.post(f"/api/orders/{order.id}/items/2/status", headers=headers,
                          json={"status": "Processing"})
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    assert refused.json["errorCode"] == 3
    assert refused.json["errors"][0]["memberName"] == "status"
    assert "held at Kitchen until course 2 is fired" in refused.json["detail"]
    assert client.get(f"/api/orders/{order.id}", headers=headers).json["_v"] == \
        before.json["_v"]

    fired = fire(client, order.id, 2, headers, json={"_v": before.json["_v"]})
    assert fired.status_code == 200, fired.json
    assert fired.json["_v"] == before.json["_v"] + 1
    assert fired.headers["ETag"] != before.headers["ETag"]
    items = {i["productCode"]: i for i in fired.json["items"]}
    assert items["STEAK"]["firedDateUtc"] is not None
    assert items["STEAK"]["startDateUtc"] == items["STEAK"]["firedDateUtc"]
    assert items["SALAD"]["startDateUtc"] > items["SALAD"]["firedDateUtc"]
    # The ETag read before no longer matches: a conditional read gets the new order.
    again = client.get(f"/api/orders/{order.id}", headers={
        **headers, "If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200 and again.json["_v"] == fired.json["_v"]
    history = client.get(f"/api/orders/{order.id}/history", headers=headers).json
    assert [(h["action"], h["target"], h["userName"]) for h in history
            if h["action"] == "fired"][-1] == ("fired", "course 2", "manager")
    assert client.post(f"/api/orders/{order.id}/items/2/status", headers=headers,
                       json={"status": "Processing"}).status_code == 200


def test_firing_again_or_from_a_stale_version_answers_409(client, device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "CAKE")
    headers = bearer(manager)
    stale = fire(client, order.id, 2, headers, json={"_v": 99})
    assert stale.status_code == 409 and stale.json["errorCode"] == 6
    stale = fire(client, order.id, 2, {**headers, "If-Match": '"99"'})
    assert stale.status_code == 409 and stale.json["errorCode"] == 6
    assert fire(client, order.id, 2, headers).status_code == 200  # no body: no version named
    again = fire(client, order.id, 2, headers)
    assert again.status_code == 409 and again.mimetype == PROBLEM
    assert again.json["errorCode"] == 3 and again.json["errors"][0]["memberName"] == "course"
    assert "fired already" in again.json["detail"]
    assert fire(client, order.id, 1, headers).status_code == 409  # fired with the order


def test_firing_an_order_not_visible_or_a_course_it_lacks_answers_404(client, device, waiter,
                                                                      manager):
    """Anyone holding orderProcess sees every live order: an unknown or deleted one is 404."""
    order = order_courses(waiter, device, "SOUP", "STEAK")
    gone = order_courses(waiter, device, "SOUP", "STEAK", name="Table 6")
    headers = bearer(manager)
    assert client.delete(f"/api/orders/{gone.id}", headers=headers).status_code == 204
    for order_id in ("00000000-0000-0000-0000-000000000000", gone.id):
        missing = fire(client, order_id, 2, headers)
        assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert fire(client, order.id, 7, headers).status_code == 404
    lacking = fire(client, order.id, 2, bearer(make_user(rights=["orderUpdate"])))
    assert lacking.status_code == 403 and lacking.json["errorCode"] == 2


def test_products_carry_their_prep_time(client, device, admin):
    headers = bearer(admin)
    made = client.post("/api/products", headers=headers, json={
        "code": "PIE", "name": "Pie", "price": 6, "stationNames": ["Kitchen"], "course": 3,
        "prepSeconds": 420})
    assert made.status_code == 201, made.json
    assert made.json["prepSeconds"] == 420
    assert client.get("/api/products/STEAK", headers=headers).json["prepSeconds"] == 900
    assert client.get("/api/products/CAKE", headers=headers).json["prepSeconds"] is None
    refused = client.put("/api/products/PIE", headers=headers, json={
        "code": "PIE", "name": "Pie", "price": 6, "prepSeconds": -1})
    assert refused.status_code == 400
    assert refused.json["errors"][0]["memberName"] == "prepSeconds"
    cleared = client.put("/api/products/PIE", headers=headers, json={
        "code": "PIE", "name": "Pie", "price": 6})
    assert cleared.json["prepSeconds"] is None


def test_station_settings_for_courses_are_checked_by_the_api(client, device, admin):
    headers = bearer(admin)
    refused = client.put("/api/orderendpoints/Bar", headers=headers, json={
        "name": "Bar", "settings": {"courseFiring": "whenever"}})
    assert refused.status_code == 400 and refused.json["errors"][0]["memberName"] == "settings"
    saved = client.put("/api/orderendpoints/Bar", headers=headers, json={
        "name": "Bar", "settings": {"courseFiring": "held", "autoFire": "true"}})
    assert saved.status_code == 200 and saved.json["settings"]["courseFiring"] == "held"


def test_the_description_names_the_route_and_the_fields(app):
    doc = build_description(app)
    operation = doc["paths"]["/api/orders/{order_id}/courses/{course}/fire"]["post"]
    assert operation["x-right"] == "orderProcess"
    assert operation["operationId"] == "fire_course"
    assert {"404", "409"} <= set(operation["responses"])
    assert any(p["name"] == "If-Match" for p in operation["parameters"])
    assert operation["requestBody"]["required"] is False
    schemas = doc["components"]["schemas"]
    assert {"firedDateUtc", "startDateUtc"} <= set(schemas["OrderItem"]["properties"])
    assert "held" in schemas["OrderItem"]["properties"]["firedDateUtc"]["description"]
    assert "prepSeconds" in schemas["Product"]["properties"]
    assert "prepSeconds" in schemas["ProductWrite"]["properties"]
    assert "courseFiring" in schemas["Station"]["properties"]["settings"]["description"]
