"""Products and stations (`/orderendpoints`): CRUD by admins, versions, validation (contract 2.2,
3.2 last paragraph, 5.3)."""
import pytest

from tests.conftest import bearer, make_ticket, make_user

PROBLEM = "application/problem+json"
KEBAB = {"code": "KEBAB", "name": "Kebab", "price": 9.5, "stationNames": ["Kitchen", "Pass"],
         "course": 2, "prepSeconds": 300, "allergens": ["gluten", "sesame"]}
GRILL = {"name": "Grill", "type": "display", "isActive": True, "address": None,
         "settings": {"columns": "3"}, "secret": "grill-signing-key"}


@pytest.fixture
def as_admin(admin):
    return bearer(admin)


def assert_problem(response, status: int, error_code: int | None, members=None) -> None:
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == PROBLEM
    assert response.json.get("errorCode") == error_code
    if members is not None:
        assert [e["memberName"] for e in response.json["errors"]] == members


def test_product_lifecycle(client, catalog, as_admin):
    r = client.post("/api/products", json=KEBAB, headers=as_admin)
    assert r.status_code == 201, r.json
    assert r.json == {**KEBAB, "_v": 1}
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == "/api/products/KEBAB"

    r = client.get(r.headers["Location"], headers=as_admin)
    assert r.status_code == 200 and r.json == {**KEBAB, "_v": 1}
    assert r.headers["ETag"] == '"1"'
    listed = client.get("/api/products", headers=as_admin).json
    assert [p["code"] for p in listed] == ["BREAD", "BURGER", "COLA", "FRIES", "KEBAB"]

    changed = {**KEBAB, "name": "Doner kebab", "price": 10, "stationNames": ["Bar"],
               "course": None}
    r = client.put("/api/products/KEBAB", json={**changed, "_v": 1}, headers=as_admin)
    assert r.status_code == 200, r.json
    assert r.json == {**changed, "_v": 2}
    assert r.headers["ETag"] == '"2"'

    r = client.put("/api/products/KEBAB", json={**KEBAB, "_v": 1}, headers=as_admin)
    assert_problem(r, 409, 6)
    assert r.json["currentVersion"] == 2
    r = client.put("/api/products/KEBAB", json=KEBAB, headers={**as_admin, "If-Match": '"1"'})
    assert_problem(r, 409, 6)
    assert r.json["currentVersion"] == 2
    r = client.delete("/api/products/KEBAB", headers={**as_admin, "If-Match": '"1"'})
    assert_problem(r, 409, 6)
    assert client.get("/api/products/KEBAB", headers=as_admin).json == {**changed, "_v": 2}

    # A write naming no version applies to the current one; If-Match "2" is current.
    r = client.put("/api/products/KEBAB", json=KEBAB, headers={**as_admin, "If-Match": '"2"'})
    assert r.status_code == 200 and r.json["_v"] == 3
    r = client.delete("/api/products/KEBAB", headers=as_admin)
    assert r.status_code == 204
    assert_problem(client.get("/api/products/KEBAB", headers=as_admin), 404, None)
    assert_problem(client.delete("/api/products/KEBAB", headers=as_admin), 404, None)


def test_a_product_can_be_renamed_to_a_free_code(client, catalog, as_admin):
    r = client.put("/api/products/COLA", json={"code": "COKE", "name": "Cola", "price": 3.2,
                                               "stationNames": ["Bar"]}, headers=as_admin)
    assert r.status_code == 200, r.json
    assert_problem(client.get("/api/products/COLA", headers=as_admin), 404, None)
    assert client.get("/api/products/COKE", headers=as_admin).json["_v"] == 2


@pytest.mark.parametrize("change,members", [
    ({"stationNames": ["Kitchen", "Cellar"]}, ["stationNames"]),
    ({"price": -1}, ["price"]),
    ({"price": 1.23456}, ["price"]),
    ({"price": 1e30}, ["price"]),
    ({"price": "NaN"}, ["price"]),
    ({"price": "cheap"}, ["price"]),
    ({"course": 100}, ["course"]),
    ({"code": ""}, ["code"]),
    ({"code": "A/B"}, ["code"]),
    ({"colour": "red"}, ["colour"]),
])
def test_an_invalid_product_is_refused_and_nothing_written(client, catalog, as_admin, change,
                                                           members):
    r = client.post("/api/products", json={**KEBAB, **change}, headers=as_admin)
    assert_problem(r, 400, 3, members)
    r = client.put("/api/products/BURGER", json={**KEBAB, "code": "BURGER", **change},
                   headers=as_admin)
    assert_problem(r, 400, 3, members)
    codes = [p["code"] for p in client.get("/api/products", headers=as_admin).json]
    assert codes == ["BREAD", "BURGER", "COLA", "FRIES"]
    assert client.get("/api/products/BURGER", headers=as_admin).json["_v"] == 1


def test_an_unknown_station_is_named(client, catalog, as_admin):
    r = client.post("/api/products", json={**KEBAB, "stationNames": ["Cellar"]},
                    headers=as_admin)
    assert_problem(r, 400, 3, ["stationNames"])
    assert "Cellar" in r.json["errors"][0]["message"]


def test_a_duplicate_product_code_is_a_conflict(client, catalog, as_admin):
    r = client.post("/api/products", json={**KEBAB, "code": "BURGER"}, headers=as_admin)
    assert_problem(r, 409, 3, ["code"])
    r = client.put("/api/products/COLA", json={**KEBAB, "code": "BURGER"}, headers=as_admin)
    assert_problem(r, 409, 3, ["code"])
    assert client.get("/api/products/BURGER", headers=as_admin).json["name"] == "Burger"
    assert client.get("/api/products/COLA", headers=as_admin).json["_v"] == 1


def test_station_lifecycle_never_shows_the_secret(client, catalog, as_admin):
    answers = []
    r = client.post("/api/orderendpoints", json=GRILL, headers=as_admin)
    assert r.status_code == 201, r.json
    expected = {**{k: v for k, v in GRILL.items() if k != "secret"},
                "backupStationName": None,
                "health": {"screens": 0, "lastSeenDateUtc": None, "failing": False}}
    assert r.json == {**expected, "_v": 1}
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == "/api/orderendpoints/Grill"
    answers.append(r)

    r = client.get(r.headers["Location"], headers=as_admin)
    assert r.json == {**expected, "_v": 1} and r.headers["ETag"] == '"1"'
    answers.append(r)
    answers.append(client.get("/api/orderendpoints", headers=as_admin))
    assert [s["name"] for s in answers[-1].json] == ["Bar", "Grill", "Kitchen", "Pass"]

    changed = {**GRILL, "name": "Charcoal grill", "isActive": False, "settings": {}}
    r = client.put("/api/orderendpoints/Grill", json={**changed, "_v": 1}, headers=as_admin)
    assert r.status_code == 200, r.json
    assert r.json == {**expected, "name": "Charcoal grill", "isActive": False, "settings": {},
                      "_v": 2}
    answers.append(r)
    r = client.put("/api/orderendpoints/Charcoal grill", json={**changed, "_v": 1},
                   headers=as_admin)
    assert_problem(r, 409, 6)
    assert r.json["currentVersion"] == 2
    answers.append(r)
    r = client.put("/api/orderendpoints/Charcoal grill", json=changed,
                   headers={**as_admin, "If-Match": '"1"'})
    assert_problem(r, 409, 6)
    assert_problem(client.delete("/api/orderendpoints/Charcoal grill",
                                 headers={**as_admin, "If-Match": '"1"'}), 409, 6)
    assert_problem(client.get("/api/orderendpoints/Grill", headers=as_admin), 404, None)

    for answer in answers:
        text = answer.get_data(as_text=True)
        assert "secret" not in text and "grill-signing-key" not in text

    r = client.delete("/api/orderendpoints/Charcoal grill",
                      headers={**as_admin, "If-Match": '"2"'})
    assert r.status_code == 204
    assert_problem(client.get("/api/orderendpoints/Charcoal grill", headers=as_admin), 404,
                   None)


@pytest.mark.parametrize("change,members,says", [
    ({"type": "printer", "address": None}, ["address"], "needs an address"),
    ({"type": "printer", "address": "10.0.0.9:99999"}, ["address"], "port"),
    ({"type": "printer", "address": "10.0.0.9", "settings": {"beep": "loud"}}, ["settings"],
     "beep"),
    ({"type": "webhook", "address": "ftp://example.com/hook", "secret": "x" * 20}, ["address"],
     "http"),
    ({"type": "webhook", "address": "https://example.com/hook", "secret": "short"}, ["secret"],
     "at least 16"),
    ({"type": "fax"}, ["type"], "Unknown station type"),
    ({"name": ""}, ["name"], ""),
    ({"name": "Front/Back"}, ["name"], "/"),
    ({"settings": {"columns": 3}}, ["settings.columns"], ""),
    ({"colour": "red"}, ["colour"], ""),
])
def test_an_invalid_station_is_refused_and_nothing_written(client, catalog, as_admin, change,
                                                           members, says):
    r = client.post("/api/orderendpoints", json={**GRILL, **change}, headers=as_admin)
    assert_problem(r, 400, 3, members)
    assert says in r.json["errors"][0]["message"]
    r = client.put("/api/orderendpoints/Kitchen", json={**GRILL, "name": "Kitchen", **change},
                   headers=as_admin)
    assert_problem(r, 400, 3, members)
    names = [s["name"] for s in client.get("/api/orderendpoints", headers=as_admin).json]
    assert names == ["Bar", "Kitchen", "Pass"]
    kitchen = client.get("/api/orderendpoints/Kitchen", headers=as_admin).json
    assert kitchen["_v"] == 1 and kitchen["type"] == "display"


def test_printer_and_webhook_stations_are_created_with_their_addresses(client, as_admin):
    r = client.post("/api/orderendpoints", headers=as_admin, json={
        "name": "Grill printer", "type": "printer", "address": "10.0.0.9",
        "settings": {"beep": "on", "width": "48"}})
    assert r.status_code == 201, r.json
    assert r.json["type"] == "printer" and r.json["settings"] == {"beep": "on", "width": "48"}
    r = client.post("/api/orderendpoints", headers=as_admin, json={
        "name": "Courier", "type": "webhook", "address": "https://courier.example/orders",
        "secret": "a-signing-key-of-some-length"})
    assert r.status_code == 201 and "secret" not in r.json
    # The secret is write-only, and kept when a later write names none.
    r = client.put("/api/orderendpoints/Courier", headers=as_admin, json={
        "name": "Courier", "type": "webhook", "address": "https://courier.example/v2",
        "isActive": False})
    assert r.status_code == 200 and r.json["address"] == "https://courier.example/v2"
    assert client.get("/api/orderendpoints/Courier/deliveries",
                      headers=as_admin).json == []


def test_a_duplicate_station_name_is_a_conflict(client, catalog, as_admin):
    assert_problem(client.post("/api/orderendpoints", json={**GRILL, "name": "Bar"},
                               headers=as_admin), 409, 3, ["name"])
    assert_problem(client.put("/api/orderendpoints/Kitchen", json={**GRILL, "name": "Bar"},
                              headers=as_admin), 409, 3, ["name"])
    assert client.get("/api/orderendpoints/Kitchen", headers=as_admin).json["_v"] == 1


def test_a_station_that_received_orders_cannot_be_deleted(client, catalog, waiter, as_admin):
    make_ticket(waiter, catalog, ("FRIES", 1))
    before = client.get("/api/orderendpoints/Kitchen", headers=as_admin).json
    assert_problem(client.delete("/api/orderendpoints/Kitchen", headers=as_admin), 409, 3,
                   ["name"])
    assert client.get("/api/orderendpoints/Kitchen", headers=as_admin).json == before
    fries = client.get("/api/products/FRIES", headers=as_admin).json
    assert fries["stationNames"] == ["Kitchen"]
    # A station nothing was routed to yet can go; products drop it from their routing.
    assert client.delete("/api/orderendpoints/Bar", headers=as_admin).status_code == 204
    assert client.get("/api/products/COLA", headers=as_admin).json["stationNames"] == []


@pytest.mark.parametrize("rights", [[], ["orderRead", "orderProcess", "orderUpdate",
                                         "orderDelete", "ticketCreate", "ticketUpdate"]])
def test_only_admins_write_the_catalog(client, catalog, as_admin, rights):
    headers = bearer(make_user(rights=rights))
    before = (client.get("/api/products", headers=as_admin).json,
              client.get("/api/orderendpoints", headers=as_admin).json)
    writes = [
        ("POST", "/api/products", KEBAB), ("PUT", "/api/products/BURGER", KEBAB),
        ("DELETE", "/api/products/BURGER", None), ("POST", "/api/orderendpoints", GRILL),
        ("PUT", "/api/orderendpoints/Kitchen", GRILL),
        ("DELETE", "/api/orderendpoints/Bar", None),
    ]
    for method, path, body in writes:
        assert_problem(client.open(path, method=method, json=body, headers=headers), 403, 2)
    # Reading is open to anyone signed in.
    after = (client.get("/api/products", headers=headers).json,
             client.get("/api/orderendpoints", headers=headers).json)
    assert after == before
