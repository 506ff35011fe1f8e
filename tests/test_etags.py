"""Repeated requests answered by HTTP (app/http/etags.py, app/web/conditional.py): lists,
pages and single orders carry an ETag of what decides their content and answer 304 to
If-None-Match, inside Flask, after the same checks as the full answer."""
from app.services import order_status, stations
from tests.conftest import bearer, make_ticket, make_user
from tests.web.helpers import HTMX, sign_in


def _again(client, path, response, **headers):
    return client.get(path, headers={**headers, "If-None-Match": response.headers["ETag"]})


# --- the API list ------------------------------------------------------------------------------

def test_a_list_answers_304_until_an_order_changes(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    path = "/api/orders?status=New&$take=20"
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first.headers["Vary"]
    unchanged = _again(client, path, first, **headers)
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == first.headers["ETag"]
    # Another query is another answer.
    assert _again(client, "/api/orders?status=New&$take=21", first, **headers).status_code == 200
    order_status.set_order_status(user=manager, order_id=order.id, status="Ready")
    changed = _again(client, path, first, **headers)
    assert changed.status_code == 200 and changed.json["totalCount"] == 0
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_counts_answer_304_too(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)
    first = client.get("/api/orders?$count=true", headers=headers)
    assert first.json == {"count": 1, "totalCount": 1}
    assert _again(client, "/api/orders?$count=true", first, **headers).status_code == 304
    make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    assert _again(client, "/api/orders?$count=true", first, **headers).json["count"] == 2


def test_a_304_never_answers_for_orders_the_caller_may_not_see(client, catalog, waiter):
    """Two waiters without orderRead each see their own orders only: the ETag of one's list
    is not the other's, so the other gets their own list, never a 304."""
    other = make_user("waiter-2", ["ticketCreate", "ticketUpdate"])
    make_ticket(waiter, catalog, ("BURGER", 1))
    make_ticket(other, catalog, ("COLA", 1), name="Table 9")
    mine, theirs = bearer(waiter), bearer(other)
    first = client.get("/api/orders", headers=mine)
    assert [o["user"]["userName"] for o in first.json["items"]] == ["waiter"]
    answer = _again(client, "/api/orders", first, **theirs)
    assert answer.status_code == 200
    assert [o["user"]["userName"] for o in answer.json["items"]] == ["waiter-2"]


def test_a_station_rename_changes_the_etag_of_its_orders(client, catalog, waiter, admin,
                                                         manager):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)
    single, listed = f"/api/orders/{order.id}", "/api/orders"
    first_single, first_list = client.get(single, headers=headers), client.get(listed,
                                                                               headers=headers)
    assert _again(client, single, first_single, **headers).status_code == 304
    bar = stations.get_station("Bar")
    stations.update_station("Bar", name="Drinks", type="display", is_active=True, address=None,
                            settings={}, version=bar.version)
    renamed = _again(client, single, first_single, **headers)
    assert renamed.status_code == 200
    assert [e["name"] for e in renamed.json["endpoints"]] == ["Drinks"]
    # The order's own version did not move; its ETag still starts with it (If-Match reads it).
    assert renamed.json["_v"] == first_single.json["_v"]
    assert renamed.headers["ETag"].startswith(f'"{renamed.json["_v"]}-')
    relisted = _again(client, listed, first_list, **headers)
    assert relisted.status_code == 200
    assert relisted.json["items"][0]["endpoints"][0]["name"] == "Drinks"


def test_a_deleted_station_changes_the_etag_even_when_its_id_comes_back(client, catalog,
                                                                        manager):
    """SQLite hands a deleted station's id to the next one: the stations' version is a
    counter that never goes back, so the same-looking set of stations still differs."""
    headers = bearer(manager)
    stations.create_station(name="Tmp")
    first = client.get("/api/orders", headers=headers)
    tmp = stations.get_station("Tmp")
    stations.delete_station("Tmp", version=tmp.version)
    stations.create_station(name="Tmp")
    assert _again(client, "/api/orders", first, **headers).status_code == 200


def test_another_users_order_is_404_whatever_the_etag(client, catalog, waiter):
    other = make_user("waiter-2", ["ticketCreate", "ticketUpdate"])
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    first = client.get(f"/api/orders/{order.id}", headers=bearer(waiter))
    answer = _again(client, f"/api/orders/{order.id}", first, **bearer(other))
    assert answer.status_code == 404


def test_if_match_takes_the_whole_order_etag(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    etag = client.get(f"/api/orders/{order.id}", headers=headers).headers["ETag"]
    done = client.post(f"/api/orders/{order.id}/status", json={"status": "Ready"},
                       headers={**headers, "If-Match": etag})
    assert done.status_code == 200, done.json
    stale = client.post(f"/api/orders/{order.id}/status", json={"status": "Completed"},
                        headers={**headers, "If-Match": etag})
    assert stale.status_code == 409 and stale.json["errorCode"] == 6


# --- dashboard pages ---------------------------------------------------------------------------

def test_the_dashboard_list_answers_304_until_anything_changes(client, catalog, waiter,
                                                               manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    sign_in(client, manager)
    first = client.get("/orders")
    assert first.status_code == 200 and first.headers["ETag"]
    assert {"Cookie", "HX-Request"} <= set(first.headers["Vary"].replace(" ", "").split(","))
    assert _again(client, "/orders", first).status_code == 304
    # The fragment htmx asks for is another answer than the page.
    assert _again(client, "/orders", first, **HTMX).status_code == 200
    order_status.set_order_status(user=manager, order_id=order.id, status="Ready")
    assert _again(client, "/orders", first).status_code == 200


def test_a_page_is_never_304_for_another_user(app, client, catalog, waiter, manager):
    sign_in(client, manager)
    first = client.get("/orders")
    other = app.test_client()
    sign_in(other, make_user("manager-2", ["orderRead"]))
    assert _again(other, "/orders", first).status_code == 200


def test_a_page_with_a_message_waiting_is_drawn(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    sign_in(client, manager)
    first = client.get(f"/orders/{order.id}")
    assert _again(client, f"/orders/{order.id}", first).status_code == 304
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Saved.")]
    drawn = _again(client, f"/orders/{order.id}", first)
    assert drawn.status_code == 200 and "Saved." in drawn.get_data(as_text=True)


def test_the_order_page_of_another_customer_is_404_whatever_the_etag(app, client, catalog,
                                                                     waiter):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    sign_in(client, waiter)
    first = client.get(f"/orders/{order.id}")
    assert first.status_code == 200
    other = app.test_client()
    sign_in(other, make_user("waiter-2", ["ticketCreate"]))
    assert _again(other, f"/orders/{order.id}", first).status_code == 404
