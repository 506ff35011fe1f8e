"""The dashboard's order list and order page, as full pages and as htmx fragments."""
import re

import pytest

from app.core import status as S
from app.services import order_status
from tests.conftest import make_ticket, make_user
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def floor(catalog, waiter):
    """Three orders: two tickets and a void."""
    t1, (o1,) = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1), name="Table 4")
    _, (o2,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Bar 2")
    from app.services.tickets import update_ticket
    from tests.conftest import lines

    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t1.id, name="Table 4",
                               lines=lines(("BURGER", 2)))
    return o1, o2, void


def numbers_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="number"[^>]*>(\d+)<', html)]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/orders")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_list_page_and_fragment(client, floor, manager):
    sign_in(client, manager)
    page = client.get("/orders")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="orders-results"' in html
    assert "HX-Request" in page.headers["Vary"]
    assert numbers_in(html) == [3, 2, 1]
    fragment = client.get("/orders?status=New", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith("<section id=\"orders-results\"")
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("query, expected", [
    ("q=4", [3, 1]),             # part of a ticket name ("Table 4")
    ("q=2", [2]),                # order number 2, and "Bar 2"
    ("station=Bar", [3, 1]),     # the void cancels a cola at the bar
    ("void=yes", [3]),
    ("void=no", [2, 1]),
    ("ticket=bar", [2]),
    ("number=1", [1]),
    ("sort=number", [1, 2, 3]),
    ("status=Cancelled", []),
])
def test_filters(client, floor, manager, query, expected):
    sign_in(client, manager)
    html = client.get(f"/orders?{query}").get_data(as_text=True)
    assert numbers_in(html) == expected


def test_bad_filter_says_what_is_wrong(client, floor, manager):
    sign_in(client, manager)
    response = client.get("/orders?number=abc")
    assert response.status_code == 422
    assert "number" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["2147483648", "gt:2147483648", "in:1,-2147483649"])
def test_a_number_beyond_the_column_says_what_is_wrong(client, floor, manager, number):
    sign_in(client, manager)
    response = client.get("/orders", query_string={"number": number})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "from -2147483648 to 2147483647" in html
    assert numbers_in(html) == []


def test_counts_per_status(client, floor, manager):
    order_status.set_order_status(user=manager, order_id=floor[1].id, status=S.READY)
    sign_in(client, manager)
    html = client.get("/orders").get_data(as_text=True)
    assert re.search(r"New <b>2</b>", html) and re.search(r"Ready <b>1</b>", html)


def test_live_poll_answers_204_until_something_changes(client, floor, manager):
    sign_in(client, manager)
    html = client.get("/orders").get_data(as_text=True)
    version = re.search(r'"version": "(\d+)"', html).group(1)
    assert client.get(f"/orders?version={version}", headers=HTMX).status_code == 204
    order_status.set_order_status(user=manager, order_id=floor[0].id, status=S.PROCESSING)
    changed = client.get(f"/orders?version={version}", headers=HTMX)
    assert changed.status_code == 200 and "Processing" in changed.get_data(as_text=True)


def test_customers_see_my_orders_only(client, floor, waiter):
    sign_in(client, waiter)  # a waiter holds no order right: only their own orders
    html = client.get("/orders").get_data(as_text=True)
    assert "My orders" in html and numbers_in(html) == [3, 2, 1]
    stranger = make_user("stranger")
    client.post("/sign-out")
    sign_in(client, stranger)
    html = client.get("/orders").get_data(as_text=True)
    assert numbers_in(html) == [] and "No orders here" in html
    assert client.get(f"/orders/{floor[0].id}").status_code == 404
    assert client.post(f"/orders/{floor[0].id}/status", data={"status": "Ready"}
                       ).status_code == 403


def test_order_page_and_fragment(client, floor, manager):
    sign_in(client, manager)
    page = client.get(f"/orders/{floor[0].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Order 1" in html and 'id="order-grid"' in html
    assert "Table 4" in html and "History" in html
    fragment = client.get(f"/orders/{floor[0].id}", headers=HTMX)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="order-detail"')
    assert "HX-Request" in fragment.headers["Vary"]
    assert client.get("/orders/no-such-order").status_code == 404
    missing = client.get("/orders/no-such-order", headers=HTMX)
    assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#messages"


def test_item_status_change_in_place(client, floor, manager):
    sign_in(client, manager)
    order = floor[0]
    response = client.post(f"/orders/{order.id}/items/2/status", headers=HTMX,
                           data={"status": "Ready", "_v": order.version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="order-detail"')
    assert "Item 2 Cola: New → <b>Ready</b>" in html
    response = client.post(f"/orders/{order.id}/status", data={"status": "Completed"})
    assert response.status_code == 303  # without htmx: post, redirect, get


def test_stale_page_gets_the_fresh_state_and_a_message(client, floor, manager):
    sign_in(client, manager)
    order = floor[0]
    order_status.set_order_status(user=manager, order_id=order.id, status=S.PROCESSING)
    response = client.post(f"/orders/{order.id}/stations/Kitchen/status", headers=HTMX,
                           data={"status": "Ready", "_v": order.version - 1})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this order" in html and "Processing" in html
    refused = client.post(f"/orders/{order.id}/status", headers=HTMX, data={"status": "New"})
    assert refused.status_code == 200  # back one stage is allowed
    refused = client.post(f"/orders/{order.id}/status", headers=HTMX, data={"status": "Cancelled"})
    refused = client.post(f"/orders/{order.id}/status", headers=HTMX, data={"status": "Ready"})
    assert refused.status_code == 409 and "Cancelled is final" in refused.get_data(as_text=True)


def test_rights_are_enforced_on_the_server(client, floor, app):
    reader = make_user("reader", ["orderRead"])
    sign_in(client, reader)
    order = floor[0]
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "status-buttons" not in html and "Delete" not in html
    assert client.post(f"/orders/{order.id}/status", data={"status": "Ready"}).status_code == 403
    assert client.post(f"/orders/{order.id}/process").status_code == 403
    assert client.get(f"/orders/{order.id}/delete").status_code == 403
    assert client.post(f"/orders/{order.id}/delete").status_code == 403
    assert client.post("/orders/batch", data={"ids": [order.id], "action": "process"}
                       ).status_code == 403


def test_process_delete_and_batch(client, floor, manager, app):
    app.config["AUTO_PROCESS"] = False
    sign_in(client, manager)
    o1, o2, void = floor
    response = client.post("/orders/batch", headers=HTMX, data={
        "ids": [o1.id, o2.id, "nope"], "action": "status:Completed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "orders-changed"
    assert html.count('class="outcome changed"') == 2 and 'class="outcome refused"' in html
    again = client.post("/orders/batch", data={"ids": [o1.id], "action": "status:New"})
    assert 'class="outcome refused"' in again.get_data(as_text=True)  # Completed -> New
    assert client.get(f"/orders/{o2.id}/delete").status_code == 200
    assert client.post(f"/orders/{o2.id}/delete").status_code == 303
    assert client.get(f"/orders/{o2.id}").status_code == 404
    processed = client.post("/orders/batch", data={"ids": [void.id], "action": "process"})
    assert 'class="outcome unchanged"' in processed.get_data(as_text=True)


def test_sign_in_and_out(client, manager):
    wrong = client.post("/sign-in", data={"user_name": "manager", "password": "nope-nope"})
    assert wrong.status_code == 401
    sign_in(client, manager)
    assert client.get("/orders").status_code == 200
    assert client.post("/sign-out").status_code == 303
    assert client.get("/orders").status_code == 302


def test_error_pages(client, manager):
    sign_in(client, manager)
    response = client.get("/nowhere")
    assert response.status_code == 404 and "<html" in response.get_data(as_text=True)
    fragment = client.get("/nowhere", headers=HTMX)
    assert fragment.status_code == 404 and "<html" not in fragment.get_data(as_text=True)


def test_an_unexpected_error_is_a_plain_500_page_without_details(client, manager,
                                                                   monkeypatch):
    from app.services import orders as order_service

    def broken(**_):
        raise RuntimeError("secret connection string postgresql://user:pw@db")

    monkeypatch.setattr(order_service, "count_by_status", broken)
    sign_in(client, manager)
    for headers in ({}, HTMX):
        response = client.get("/orders", headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Something went wrong" in body
        assert "secret" not in body and "Traceback" not in body


def test_the_process_button_is_offered_only_while_something_waits(client, catalog, waiter,
                                                                   manager, app):
    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    sign_in(client, manager)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'title="Send it to Bar">Process</button>' in page
    assert client.post(f"/orders/{order.id}/process").status_code == 303
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'disabled title="Nothing left to send">Process</button>' in page
