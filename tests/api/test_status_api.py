"""The order write routes over HTTP (contract 4.1): the three status routes, processing,
deletion, and the history they leave."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.orders import OrderEvent
from tests.conftest import bearer, make_ticket, make_user


@pytest.fixture
def order(catalog, waiter):
    """Item 1 BURGER at Kitchen and Pass, item 2 COLA at Bar; processed on creation."""
    _, (made,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 2))
    return made


@pytest.fixture
def headers(manager):
    return bearer(manager)


def url(order, suffix=""):
    return f"/api/orders/{order.id}{suffix}"


def current(client, order, headers) -> dict:
    r = client.get(url(order), headers=headers)
    assert r.status_code == 200
    return r.json


def cells(body) -> dict:
    return {(i["id"], e["name"]): e["status"] for i in body["items"] for e in i["endpoints"]}


def assert_problem(r, status, error_code=None):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == status
    if error_code is not None:
        assert r.json["errorCode"] == error_code
    return r.json


# --- the three status routes -------------------------------------------------------------------

def test_order_status_answers_the_updated_order_with_a_new_etag(client, order, headers):
    before = current(client, order, headers)
    r = client.post(url(order, "/status"), json={"status": "Processing"}, headers=headers)
    assert r.status_code == 200
    assert r.json["status"] == "Processing"
    assert set(cells(r.json).values()) == {"Processing"}
    assert r.json["_v"] == before["_v"] + 1
    assert r.headers["ETag"].startswith(f'"{before["_v"] + 1}-')
    assert current(client, order, headers) == r.json


def test_item_status_route(client, order, headers):
    r = client.post(url(order, "/items/2/status"), json={"status": "Ready"}, headers=headers)
    assert r.status_code == 200
    assert cells(r.json) == {(1, "Kitchen"): "New", (1, "Pass"): "New", (2, "Bar"): "Ready"}
    assert [i["status"] for i in r.json["items"]] == ["New", "Ready"]
    assert r.json["status"] == "New"
    assert r.headers["ETag"].startswith(f'"{r.json["_v"]}-')


def test_endpoint_status_route(client, order, headers):
    r = client.post(url(order, "/endpoints/Pass/status"), json={"status": "Completed"},
                    headers=headers)
    assert r.status_code == 200
    assert cells(r.json) == {(1, "Kitchen"): "New", (1, "Pass"): "Completed",
                             (2, "Bar"): "New"}
    assert {e["name"]: e["status"] for e in r.json["endpoints"]} == {
        "Kitchen": "New", "Bar": "New", "Pass": "Completed"}


def test_body_names_are_case_insensitive_and_versions_accepted(client, order, headers):
    v = current(client, order, headers)["_v"]
    r = client.post(url(order, "/status"), json={"STATUS": "ready", "_V": v}, headers=headers)
    assert r.status_code == 200 and r.json["status"] == "Ready"
    r = client.post(url(order, "/status"), json={"status": "Completed"},
                    headers={**headers, "If-Match": f'"{v + 1}"'})
    assert r.status_code == 200 and r.json["status"] == "Completed"
    assert r.json["completedDateUtc"] is not None


def test_whole_order_to_completed_and_back(client, order, headers):
    r = client.post(url(order, "/status"), json={"status": "Completed"}, headers=headers)
    assert r.json["completedDateUtc"] is not None
    r = client.post(url(order, "/items/1/status"), json={"status": "Ready"}, headers=headers)
    assert r.status_code == 200
    assert r.json["status"] == "Ready" and r.json["completedDateUtc"] is None


# --- refused moves -----------------------------------------------------------------------------

@pytest.mark.parametrize("route", ["/status", "/items/1/status", "/endpoints/Kitchen/status"])
def test_a_refused_move_is_409_errorcode_3_and_changes_nothing(client, order, headers, route):
    client.post(url(order, "/status"), json={"status": "Completed"}, headers=headers)
    before = current(client, order, headers)
    r = client.post(url(order, route), json={"status": "New"}, headers=headers)
    body = assert_problem(r, 409, 3)
    assert body["errors"][0]["memberName"] == "status"
    assert current(client, order, headers) == before


def test_a_cancelled_item_cannot_move(client, order, headers):
    r = client.post(url(order, "/items/2/status"), json={"status": "Cancelled"},
                    headers=headers)
    assert r.status_code == 200
    r = client.post(url(order, "/items/2/status"), json={"status": "Processing"},
                    headers=headers)
    assert assert_problem(r, 409, 3)["errors"][0]["memberName"] == "status"
    r = client.post(url(order, "/endpoints/Bar/status"), json={"status": "Ready"},
                    headers=headers)
    assert_problem(r, 409, 3)


# --- versions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("route", ["/status", "/items/1/status", "/endpoints/Bar/status"])
def test_a_stale_version_in_the_body_is_409_errorcode_6(client, order, headers, route):
    v = current(client, order, headers)["_v"]
    client.post(url(order, "/items/2/status"), json={"status": "Processing"}, headers=headers)
    before = current(client, order, headers)
    r = client.post(url(order, route), json={"status": "Ready", "_v": v}, headers=headers)
    body = assert_problem(r, 409, 6)
    assert body["currentVersion"] == v + 1
    assert current(client, order, headers) == before


@pytest.mark.parametrize("route", ["/status", "/items/1/status", "/endpoints/Bar/status"])
def test_a_stale_if_match_is_409_errorcode_6(client, order, headers, route):
    v = current(client, order, headers)["_v"]
    client.post(url(order, "/items/2/status"), json={"status": "Processing"}, headers=headers)
    before = current(client, order, headers)
    r = client.post(url(order, route), json={"status": "Ready"},
                    headers={**headers, "If-Match": f'"{v}"'})
    assert assert_problem(r, 409, 6)["currentVersion"] == v + 1
    assert current(client, order, headers) == before


def test_etag_and_if_none_match(client, order, headers):
    r = client.get(url(order), headers=headers)
    etag = r.headers["ETag"]
    assert client.get(url(order), headers={**headers, "If-None-Match": etag}).status_code == 304
    client.post(url(order, "/status"), json={"status": "Ready"}, headers=headers)
    r = client.get(url(order), headers={**headers, "If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag


# --- bad input and unknown targets -------------------------------------------------------------

@pytest.mark.parametrize("body, member", [
    ({"status": "Done"}, "status"),
    ({"status": ""}, "status"),
    ({}, "status"),
    ({"status": "Ready", "colour": "red"}, "colour"),
    ({"status": "Ready", "_v": 0}, "_v"),
])
def test_bad_bodies_are_400(client, order, headers, body, member):
    before = current(client, order, headers)
    r = client.post(url(order, "/status"), json=body, headers=headers)
    problem = assert_problem(r, 400, 3)
    assert member in [e["memberName"] for e in problem["errors"]]
    assert current(client, order, headers) == before


def test_unknown_item_station_or_order_is_404(client, order, headers, catalog, waiter):
    _, (fries,) = make_ticket(waiter, catalog, ("FRIES", 1))
    for path in (url(order, "/items/3/status"), url(order, "/items/0/status"),
                 url(order, "/items/x/status"),
                 url(order, "/endpoints/Nowhere/status"),
                 url(fries, "/endpoints/Bar/status"),  # a station, but not on this order
                 "/api/orders/00000000-0000-0000-0000-000000000000/status",
                 "/api/orders/nope/items/1/status", "/api/orders/nope/endpoints/Bar/status"):
        r = client.post(path, json={"status": "Ready"}, headers=headers)
        assert_problem(r, 404)


def test_status_routes_need_order_update(client, order, waiter):
    headers = bearer(waiter)
    for route in ("/status", "/items/1/status", "/endpoints/Bar/status"):
        r = client.post(url(order, route), json={"status": "Ready"}, headers=headers)
        assert_problem(r, 403, 2)
    r = client.post(url(order, "/status"), json={"status": "Ready"})
    assert_problem(r, 401, 1)


# --- processing --------------------------------------------------------------------------------

def test_process_route_dispatches_once(app, client, catalog, waiter, headers):
    app.config["AUTO_PROCESS"] = False
    _, (first,) = make_ticket(waiter, catalog, ("FRIES", 1))
    _, (second,) = make_ticket(waiter, catalog, ("COLA", 1))
    assert current(client, first, headers)["isProcessable"] is True
    r = client.post("/api/orders", json={"orderIds": [second.id, first.id]}, headers=headers)
    assert r.status_code == 200
    assert [o["id"] for o in r.json] == [second.id, first.id]
    assert all(o["isProcessed"] and not o["isProcessable"] for o in r.json)
    assert all(e["processedDateUtc"] for o in r.json for e in o["endpoints"])
    assert current(client, first, headers) == r.json[1]
    r = client.post("/api/orders", json={"orderIds": [first.id]}, headers=headers)
    assert r.status_code == 200 and r.json == []


def test_process_route_errors(client, order, waiter, headers):
    r = client.post("/api/orders", json={"orderIds": [order.id, "nope"]}, headers=headers)
    assert assert_problem(r, 400, 3)["errors"][0]["memberName"] == "orderIds[1]"
    r = client.post("/api/orders", json={"ids": []}, headers=headers)
    assert_problem(r, 400, 3)
    r = client.post("/api/orders", json={"orderIds": [order.id]}, headers=bearer(waiter))
    assert_problem(r, 403, 2)


# --- deletion ----------------------------------------------------------------------------------

def test_delete_then_404_everywhere(client, order, headers):
    r = client.delete(url(order), headers=headers)
    assert r.status_code == 204 and r.get_data() == b""
    for path in (url(order), f"/api/order/{order.id}", url(order, "/history")):
        assert_problem(client.get(path, headers=headers), 404)
    for route in ("/status", "/items/1/status", "/endpoints/Bar/status"):
        r = client.post(url(order, route), json={"status": "Ready"}, headers=headers)
        assert_problem(r, 404)
    assert_problem(client.delete(url(order), headers=headers), 404)
    r = client.get("/api/orders", headers=headers)
    assert r.json["totalCount"] == 0
    r = client.post("/api/orders", json={"orderIds": [order.id]}, headers=headers)
    assert_problem(r, 400)
    db.session.expire_all()
    actions = db.session.scalars(select(OrderEvent.action).where(
        OrderEvent.order_id == order.id).order_by(OrderEvent.id)).all()
    assert actions[0] == "created" and actions[-1] == "deleted"


def test_delete_with_a_stale_if_match_is_refused(client, order, headers):
    v = current(client, order, headers)["_v"]
    client.post(url(order, "/status"), json={"status": "Ready"}, headers=headers)
    r = client.delete(url(order), headers={**headers, "If-Match": f'"{v}"'})
    assert assert_problem(r, 409, 6)["currentVersion"] == v + 1
    assert client.get(url(order), headers=headers).status_code == 200
    r = client.delete(url(order), headers={**headers, "If-Match": f'"{v + 1}"'})
    assert r.status_code == 204


def test_admin_may_delete(client, order, admin):
    assert client.delete(url(order), headers=bearer(admin)).status_code == 204
    assert_problem(client.get(url(order), headers=bearer(admin)), 404)


def test_delete_refused_without_the_right(client, order, manager):
    updater = make_user("updater", ["orderRead", "orderUpdate", "orderProcess"])
    assert_problem(client.delete(url(order), headers=bearer(updater)), 403, 2)
    assert client.get(url(order), headers=bearer(manager)).status_code == 200


# --- history -----------------------------------------------------------------------------------

def test_history_is_served_oldest_first_with_the_changes(client, order, headers, manager):
    client.post(url(order, "/items/2/status"), json={"status": "Processing"}, headers=headers)
    client.post(url(order, "/endpoints/Kitchen/status"), json={"status": "Ready"},
                headers=headers)
    client.post(url(order, "/status"), json={"status": "Completed"}, headers=headers)
    client.post(url(order, "/status"), json={"status": "New"}, headers=headers)  # refused
    r = client.get(url(order, "/history"), headers=headers)
    assert r.status_code == 200
    events = r.json
    assert [e["action"] for e in events] == [
        "created", "dispatched", "dispatched", "dispatched", "status", "status", "status"]
    assert sorted(e["target"] for e in events[1:4]) == ["Bar", "Kitchen", "Pass"]
    changes = [(e["level"], e["fromStatus"], e["toStatus"], e["userName"])
               for e in events[4:]]
    assert changes == [("item", "New", "Processing", "manager"),
                       ("station", "New", "Ready", "manager"),
                       ("order", "New", "Completed", "manager")]
    assert events[5]["target"] == "Kitchen"
    assert events[0]["userName"] == "waiter"
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert all(e["at"].endswith("Z") for e in events)
