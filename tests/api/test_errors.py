"""Every API error is RFC 7807 problem JSON (contract 4.5); ETags on single orders (5.3)."""
import pytest
from sqlalchemy.exc import OperationalError

from app.services import products
from tests.conftest import bearer, make_app, make_ticket

PROBLEM = "application/problem+json"
MEMBERS = {"type", "title", "status", "detail", "instance", "traceId"}


def assert_problem(response, status: int, error_code: int | None, path: str | None = None):
    assert response.status_code == status, (response.status_code, response.get_data())
    assert response.mimetype == PROBLEM
    body = response.json
    assert MEMBERS <= set(body), body
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert body.get("errorCode") == error_code
    assert body["traceId"] and body["traceId"] == response.headers["X-Request-Id"]
    if path is not None:
        assert body["instance"] == path
    return body


def ticket(*items, name="Table 3") -> dict:
    return {"name": name, "items": [{"productCode": c, "quantity": q} for c, q in items]}


@pytest.mark.parametrize("data,content_type", [
    ('{"name": "Table 3", "items": [', "application/json"),
    ("name=Table 3", "application/x-www-form-urlencoded"),
    ('[{"name": "Table 3"}]', "application/json"),
    ('"Table 3"', "application/json"),
    ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_a_validation_problem(client, catalog, waiter, data,
                                                                   content_type):
    r = client.post("/api/tickets", data=data, content_type=content_type,
                    headers=bearer(waiter, "POS-1"))
    body = assert_problem(r, 400, 3, "/api/tickets")
    assert [e["memberName"] for e in body["errors"]] == ["body"]
    assert client.get("/api/orders", headers=bearer(waiter)).json["totalCount"] == 0


@pytest.mark.parametrize("items,member", [
    ([{"productCode": "BURGER", "quantity": "abc"}], "items[0].quantity"),
    ([{"productCode": "BURGER", "quantity": 1}, {"productCode": 7, "quantity": 1}],
     "items[1].productCode"),
    ({"productCode": "BURGER", "quantity": 1}, "items"),
    ("BURGER", "items"),
    ([{"productCode": "BURGER", "quantity": 0}], "items[0].quantity"),
    ([{"productCode": "BURGER", "quantity": 1, "size": "XL"}], "items[0].size"),
])
def test_wrong_types_name_the_member(client, catalog, waiter, items, member):
    r = client.post("/api/tickets", json={"name": "Table 3", "items": items},
                    headers=bearer(waiter, "POS-1"))
    body = assert_problem(r, 400, 3)
    assert [e["memberName"] for e in body["errors"]] == [member]
    assert all(e["message"] and e["code"] for e in body["errors"])
    assert client.get("/api/orders", headers=bearer(waiter)).json["totalCount"] == 0


def test_every_bad_member_is_named_at_once(client, manager, catalog, waiter):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    r = client.post(f"/api/orders/{order.id}/status", json={"status": 3, "_v": "x"},
                    headers=bearer(manager))
    body = assert_problem(r, 400, 3)
    assert sorted(e["memberName"] for e in body["errors"]) == ["_v", "status"]
    r = client.post("/api/orders", json={"orderIds": "abc"}, headers=bearer(manager))
    assert [e["memberName"] for e in assert_problem(r, 400, 3)["errors"]] == ["orderIds"]


def test_closing_a_ticket_refuses_a_malformed_body(client, catalog, waiter):
    created, _ = make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(waiter)
    for data in ('{"_v": 1', "[1]"):
        r = client.post(f"/api/tickets/{created.id}/close", data=data,
                        content_type="application/json", headers=headers)
        assert_problem(r, 400, 3)
    assert client.get(f"/api/tickets/{created.id}", headers=headers).json["isClosed"] is False
    # No body at all is fine: closing names nothing but an optional version.
    r = client.post(f"/api/tickets/{created.id}/close", headers=headers)
    assert r.status_code == 200 and r.json["isClosed"] is True


NESTED = [
    "[" * 5000 + "]" * 5000,
    '{"a": ' * 5000 + "1" + "}" * 5000,
    '{"name": "Table 3", "items": ' + "[" * 5000 + "]" * 5000 + "}",
    # Deeper than any body needs, yet short of the parser's recursion limit: refused all the
    # same, before a walk over it (the NUL check, pydantic) could meet that limit instead.
    '{"name": "Table 3", "items": ' + "[" * 900 + "]" * 900 + "}",
]


@pytest.mark.parametrize("document", NESTED)
def test_a_deeply_nested_body_is_a_validation_problem_on_every_route(client, catalog, waiter,
                                                                      document):
    created, _ = make_ticket(waiter, catalog, ("COLA", 1))
    headers = {**bearer(waiter, "POS-1"), "Content-Type": "application/json"}
    answers = {
        "sign-in": client.post("/api/auth", data=document, content_type="application/json"),
        "create": client.post("/api/tickets", data=document, headers=headers),
        "create once": client.post("/api/tickets", data=document,
                                   headers={**headers, "Idempotency-Key": "deep-1"}),
        "update": client.put(f"/api/tickets/{created.id}", data=document, headers=headers),
        "close": client.post(f"/api/tickets/{created.id}/close", data=document,
                             headers=headers),
    }
    for route, r in answers.items():
        body = assert_problem(r, 400, 3)
        assert [e["memberName"] for e in body["errors"]] == ["body"], route
        assert "not valid JSON" in body["errors"][0]["message"], route
    assert client.get("/api/orders", headers=headers).json["totalCount"] == 1
    ticket = client.get(f"/api/tickets/{created.id}", headers=headers).json
    assert (ticket["_v"], ticket["isClosed"]) == (1, False)


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/orders/x/y/z", "/api"])
def test_an_unknown_route_under_api_is_a_404_problem(client, path):
    assert_problem(client.get(path), 404, None, path)


def test_an_unknown_item_in_a_known_order_is_a_404_problem(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    path = f"/api/orders/{order.id}/items/9/status"
    assert_problem(client.post(path, json={"status": "Ready"}, headers=bearer(manager)), 404,
                   None, path)
    path = f"/api/orders/{order.id}/items/first/status"
    assert_problem(client.post(path, json={"status": "Ready"}, headers=bearer(manager)), 404,
                   None, path)


def test_a_wrong_method_is_a_405_problem(client, waiter):
    r = client.put("/api/orders", json={}, headers=bearer(waiter))
    assert_problem(r, 405, None, "/api/orders")
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_problem(client.patch("/api/auth"), 405, None)


def test_errors_outside_api_are_not_problem_json(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    assert r.mimetype != PROBLEM


def test_a_500_never_carries_a_stack_trace(client, waiter, monkeypatch):
    def explode():
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(products, "list_products", explode)
    r = client.get("/api/products", headers=bearer(waiter))
    body = assert_problem(r, 500, None, "/api/products")
    text = r.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "hunter2", "postgres://", 'File "'):
        assert leak not in text
    assert "traceId" in body["detail"]


def test_a_500_from_a_route_outside_the_blueprint_is_a_problem_too():
    app = make_app("sqlite://")

    @app.get("/api/boom")
    def boom():
        raise KeyError("secret-key-material")

    r = app.test_client().get("/api/boom")
    assert_problem(r, 500, None, "/api/boom")
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and "secret-key-material" not in text


def test_a_locked_database_is_a_423_problem(client, waiter, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("UPDATE products ...", {}, Exception("database is locked"))

    monkeypatch.setattr(products, "list_products", locked)
    body = assert_problem(client.get("/api/products", headers=bearer(waiter)), 423, 5)
    assert "UPDATE" not in body["detail"]


def test_another_database_error_is_a_500_not_a_423(client, waiter, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT ...", {}, Exception("no such table: products"))

    monkeypatch.setattr(products, "list_products", broken)
    r = client.get("/api/products", headers=bearer(waiter))
    assert_problem(r, 500, None)
    assert "no such table" not in r.get_data(as_text=True)


def test_an_order_etag_answers_304_until_the_order_changes(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    path = f"/api/orders/{order.id}"
    first = client.get(path, headers=headers)
    etag = first.headers["ETag"]
    # "<_v>-<the stations' version>": the answer shows its stations too.
    assert etag.startswith('"%d-' % first.json["_v"])

    r = client.get(path, headers={**headers, "If-None-Match": etag})
    assert r.status_code == 304 and r.get_data() == b""
    assert client.get(f"/api/order/{order.id}",
                      headers={**headers, "If-None-Match": etag}).status_code == 304

    changed = client.post(f"{path}/status", json={"status": "Ready", "_v": first.json["_v"]},
                          headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["_v"] == first.json["_v"] + 1
    r = client.get(path, headers={**headers, "If-None-Match": etag})
    assert r.status_code == 200
    assert r.json["_v"] == changed.json["_v"] and r.json["status"] == "Ready"
    assert r.headers["ETag"].startswith('"%d-' % r.json["_v"])

    # The stale version is refused for writes, by body and by If-Match alike.
    for kwargs in ({"json": {"status": "Completed", "_v": first.json["_v"]}},
                   {"json": {"status": "Completed"}, "headers": {"If-Match": etag}}):
        stale = client.post(f"{path}/status", **{**kwargs, "headers": {
            **headers, **kwargs.get("headers", {})}})
        assert assert_problem(stale, 409, 6)["currentVersion"] == r.json["_v"]
    assert client.get(path, headers=headers).json["status"] == "Ready"
