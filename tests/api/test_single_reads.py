"""Reading one resource: `GET /api/orders/{id}?$include=history` answers the order with its
history, under an ETag of its own; any other query parameter on a single-resource GET answers
400 naming it, as lists do (contract 4.2)."""
import pytest

from app.services import baskets, orders
from tests.conftest import bearer, make_ticket

PROBLEM = "application/problem+json"


def _again(client, path, first, headers):
    return client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})


@pytest.mark.parametrize("prefix", ["/api/orders", "/api/order"])
def test_an_order_comes_with_its_history_when_asked(client, catalog, waiter, manager, prefix):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    plain = client.get(f"{prefix}/{order.id}", headers=headers)
    assert plain.status_code == 200 and "history" not in plain.json
    full = client.get(f"{prefix}/{order.id}?$include=HISTORY", headers=headers)
    assert full.status_code == 200
    expected = client.get(f"/api/orders/{order.id}/history", headers=headers).json
    assert full.json["history"] == expected and expected
    assert {k: v for k, v in full.json.items() if k != "history"} == plain.json
    # One _v, two answers: the tags differ, and both start with the _v If-Match reads.
    assert plain.headers["ETag"] != full.headers["ETag"]
    assert full.headers["ETag"].startswith(f'"{full.json["_v"]}-')
    assert _again(client, f"{prefix}/{order.id}", full, headers).status_code == 200
    assert _again(client, f"{prefix}/{order.id}?$include=history", plain,
                  headers).status_code == 200
    assert _again(client, f"{prefix}/{order.id}?$include=history", full,
                  headers).status_code == 304


def test_history_that_grows_without_a_new_version_changes_the_tag(client, catalog, waiter,
                                                                  manager):
    """A failed delivery writes history only (app.services.dispatch): the order's `_v` stays,
    and the order without history still answers 304, the one with history does not."""
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)
    path = f"/api/orders/{order.id}"
    plain = client.get(path, headers=headers)
    full = client.get(path + "?$include=history", headers=headers)
    stored = orders.get_order(user=manager, order_id=order.id)
    dispatch_job_failed(stored)
    assert _again(client, path, plain, headers).status_code == 304
    changed = _again(client, path + "?$include=history", full, headers)
    assert changed.status_code == 200 and changed.json["_v"] == full.json["_v"]
    assert len(changed.json["history"]) == len(full.json["history"]) + 1


def dispatch_job_failed(order) -> None:
    """A history line of the kind a failed delivery writes, in its own transaction."""
    from app.db.transactions import write_transaction
    from app.services import history

    with write_transaction():
        history.record(order, "dispatch failed", user_name=None, level="station",
                       target="Bar", detail="slip to Bar failed: connection refused")


def test_an_unknown_include_is_refused(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    r = client.get(f"/api/orders/{order.id}?$include=history,items", headers=bearer(manager))
    assert r.status_code == 400 and r.mimetype == PROBLEM
    assert [(e["memberName"], e["message"]) for e in r.json["errors"]] == [
        ("$include", "Cannot include 'items'; use one of history.")]


def test_single_resource_reads_refuse_unknown_parameters(client, catalog, waiter, customer,
                                                         admin):
    ticket, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    project = baskets.create_project(user=customer, name="Poster", product_code="BURGER")
    basket = baskets.create_basket(user=customer)
    reads = [(f"/api/orders/{order.id}", admin), (f"/api/order/{order.id}", admin),
             (f"/api/tickets/{ticket.id}", admin), ("/api/products/BURGER", admin),
             ("/api/orderendpoints/Kitchen", admin), (f"/api/project/{project.guid}", customer),
             (f"/api/basket/{basket.guid}", customer)]
    for path, user in reads:
        headers = bearer(user)
        assert client.get(path, headers=headers).status_code == 200, path
        r = client.get(path + "?status=New&$take=5", headers=headers)
        assert r.status_code == 400 and r.mimetype == PROBLEM, path
        assert [e["memberName"] for e in r.json["errors"]] == ["status", "$take"], path
        assert r.json["errorCode"] == 3
    r = client.get("/api/products/BURGER?$include=history", headers=bearer(admin))
    assert r.json["errors"][0]["message"] == ("Unknown parameter '$include'; this route takes "
                                              "no query parameters.")
    r = client.get(f"/api/orders/{order.id}?$take=1", headers=bearer(admin))
    assert r.json["errors"][0]["message"] == ("Unknown parameter '$take'; this route takes "
                                              "$include (history).")


def test_the_query_is_checked_before_the_order_is_looked_up(client, waiter):
    r = client.get("/api/orders/no-such-order?$take=1", headers=bearer(waiter))
    assert r.status_code == 400

