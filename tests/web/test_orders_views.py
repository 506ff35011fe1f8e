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


@pytest.mark.parametrize("number, message", [
    ("2147483648", "Number: order numbers go up to 2147483647."),
    ("gt:2147483648", "Number: enter an order number, such as 12."),
    ("in:1,-2147483649", "Number: enter an order number, such as 12.")])
def test_a_number_beyond_the_column_says_what_is_wrong(client, floor, manager, number, message):
    sign_in(client, manager)
    response = client.get("/orders", query_string={"number": number})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
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
    assert '<form class="moves' not in html and "Delete" not in html and "Cancel…" not in html
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


# --- a session that ended while a page was open ------------------------------------------------

def test_a_poll_without_a_session_sends_the_whole_page_to_sign_in(client, floor):
    """The 2-second refresh of a page whose session ended (signed out in another tab, cookies
    cleared, expired) must not swap the sign-in page into the list: htmx is told to load it."""
    page = f"http://localhost/orders/{floor[0].id}?tab=1"
    response = client.get(f"/orders/{floor[0].id}?version=3",
                          headers={**HTMX, "HX-Current-URL": page})
    assert response.status_code == 401 and response.get_data() == b""
    assert response.headers["HX-Redirect"] == (
        f"/sign-in?next=/orders/{floor[0].id}?tab%3D1")
    assert "Location" not in response.headers
    # A plain request is redirected as before, with the page it asked for.
    plain = client.get("/orders?status=New")
    assert plain.status_code == 302
    assert plain.headers["Location"] == "/sign-in?next=/orders?status%3DNew"
    # The sign-in page says why, as information, not as a success.
    html = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert '<p class="flash info">Sign in to see this page.</p>' in html


def test_a_page_of_another_site_is_never_the_way_back(client, floor):
    response = client.get("/orders", headers={**HTMX,
                                              "HX-Current-URL": "https://evil.example/orders"})
    assert response.headers["HX-Redirect"] == "/sign-in"


def test_a_button_pressed_after_the_session_ended_goes_to_sign_in(app, client, floor, manager,
                                                                   monkeypatch):
    """With CSRF on, a post from a page whose session is gone fails its token check first;
    that is the session's end too, not an expired form."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    order = floor[0]
    sign_in_page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', sign_in_page).group(1)
    client.delete_cookie("session")  # the cookies were cleared, or another tab signed out
    page = f"http://localhost/orders/{order.id}"
    pressed = client.post(f"/orders/{order.id}/items/2/status", data={"status": "Ready"},
                          headers={**HTMX, "X-CSRFToken": token, "HX-Current-URL": page})
    assert pressed.status_code == 401
    assert pressed.headers["HX-Redirect"] == f"/sign-in?next=/orders/{order.id}"
    # Without JavaScript: back to sign-in, and from there to the page the form was on.
    plain = client.post(f"/orders/{order.id}/status", data={"status": "Ready",
                                                            "csrf_token": token},
                        headers={"Referer": page})
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/sign-in?next=/orders/{order.id}"
    assert "Your session ended" in client.get(plain.headers["Location"]).get_data(as_text=True)
    # A post without any token did not come from a page of ours: refused as before.
    assert client.post(f"/orders/{order.id}/status", data={"status": "Ready"}).status_code == 400
    assert order_status_of(order) == S.NEW


def order_status_of(order) -> str:
    from app.extensions import db
    from app.models.orders import Order

    db.session.expire_all()
    return db.session.get(Order, order.id).status


def test_an_expired_sign_in_form_shows_the_form_again(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/sign-in?next=/orders/x").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.delete_cookie("session")
    response = client.post("/sign-in?next=/orders/x", headers={
        "Referer": "http://localhost/sign-in?next=/orders/x"},
        data={"user_name": "x", "password": "y", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/orders/x"


# --- the order page's controls -------------------------------------------------------------

def buttons(html: str, region: str) -> list[str]:
    """The status buttons drawn from the element with id `region` to the next row's end."""
    part = html.split(f'id="{region}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r'<button type="submit" name="status" value="(\w+)" class="button (\w+)', part)


def test_each_level_offers_one_next_step_and_only_the_moves_allowed(client, floor, manager):
    order = floor[0]  # Burger at Kitchen and Pass, Cola at Bar
    order_status.set_item_status(user=manager, order_id=order.id, item_id=2, status=S.READY)
    sign_in(client, manager)
    for headers in ({}, HTMX):
        html = client.get(f"/orders/{order.id}", headers=headers).get_data(as_text=True)
        # The Cola is Ready: Completed is next, back to Processing the other move; New is two
        # stages back, not allowed, so not drawn.
        assert buttons(html, "item-2") == [("Completed", "primary"), ("Processing", "secondary")]
        assert buttons(html, "item-1") == [("Processing", "primary"), ("Ready", "secondary"),
                                           ("Completed", "secondary")]
        assert buttons(html, "station-Bar") == [("Completed", "primary"),
                                                ("Processing", "secondary")]
        assert html.count('class="button primary next"') == 1 + 3 + 2  # order, stations, items
        # The order's next step moves no cell back: with the Cola Ready, it is Ready; Processing
        # (which would take the Cola back) is a secondary move, named for what it does.
        assert buttons(html, "level-order") == [
            ("Ready", "primary"), ("Processing", "secondary"), ("Completed", "secondary")]
        assert ">Set all to Processing<" in html
        assert f'href="/orders/{order.id}/cancel?item=2"' in html
        assert 'hx-confirm="Cancel item 2 Cola of order 1?' in html


def test_a_cancelled_order_offers_nothing_but_delete(client, floor, manager):
    order = floor[0]
    order_status.set_order_status(user=manager, order_id=order.id, status=S.CANCELLED)
    sign_in(client, manager)
    for headers in ({}, HTMX):
        html = client.get(f"/orders/{order.id}", headers=headers).get_data(as_text=True)
        assert '<form class="moves' not in html and "Cancel…" not in html
        assert ">Process</button>" not in html and "Reprint" not in html
        assert "Delete…" in html


def test_cancel_asks_first_on_a_page_of_its_own_without_javascript(client, floor, manager):
    order = floor[0]
    sign_in(client, manager)
    page = client.get(f"/orders/{order.id}/cancel?station=Bar")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cancel order 1 at Bar?" in html
    assert f'action="/orders/{order.id}/stations/Bar/status"' in html
    assert 'name="status" value="Cancelled"' in html and f'value="{order.version}"' in html
    assert order_status_of(order) == S.NEW  # asking changed nothing
    done = client.post(f"/orders/{order.id}/stations/Bar/status",
                       data={"status": "Cancelled", "_v": order.version})
    assert done.status_code == 303
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Station Bar: New → <b>Cancelled</b>" in html
    again = client.get(f"/orders/{order.id}/cancel?station=Bar")
    assert again.status_code == 409 and "cancelled already" in again.get_data(as_text=True)
    assert client.get(f"/orders/{order.id}/cancel?item=9").status_code == 422
    assert client.get(f"/orders/{order.id}/cancel").status_code == 200
    assert client.get(f"/orders/{order.id}/cancel?item=1").status_code == 200


def test_only_those_who_may_change_a_status_are_asked(client, floor):
    sign_in(client, make_user("reader", ["orderRead"]))
    assert client.get(f"/orders/{floor[0].id}/cancel").status_code == 403


def test_cancelling_from_the_list_asks_first(client, floor, manager):
    o1, o2, _ = floor
    sign_in(client, manager)
    for headers in ({}, HTMX):
        asked = client.post("/orders/batch", headers=headers, data={
            "ids": [o1.id, o2.id, "nope"], "action": "status:Cancelled"})
        html = asked.get_data(as_text=True)
        assert asked.status_code == 200 and "Cancel 2 orders?" in html
        assert "Orders 1, 2." in html and 'name="confirmed" value="yes"' in html
        assert ("<html" in html) == (not headers) and "HX-Trigger" not in asked.headers
    assert order_status_of(o1) == S.NEW and order_status_of(o2) == S.NEW
    done = client.post("/orders/batch", headers=HTMX, data={
        "ids": [o1.id, o2.id], "action": "status:Cancelled", "confirmed": "yes"})
    assert done.get_data(as_text=True).count('class="outcome changed"') == 2
    assert order_status_of(o1) == S.CANCELLED


def test_a_refusal_is_drawn_beside_the_control_that_was_pressed(client, floor, manager):
    order = floor[0]
    sign_in(client, manager)
    stale = client.post(f"/orders/{order.id}/items/2/status", headers=HTMX,
                        data={"status": "Ready", "_v": order.version - 1})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    row_end = html.index('id="item-2"')
    message = html.index('data-near="item-2"')
    assert message > row_end and html.index('id="item-3"' if 'id="item-3"' in html
                                           else "</tbody>", row_end) > message
    assert html.count('role="alert"') == 1
    refused = client.post(f"/orders/{order.id}/stations/Bar/status", headers=HTMX,
                          data={"status": "bogus"})
    assert refused.status_code == 422  # an unknown status is malformed, shown in #messages
    assert refused.headers["HX-Retarget"] == "#messages"


# --- the list ----------------------------------------------------------------------------------

def test_filter_errors_speak_the_forms_language(client, floor, manager):
    sign_in(client, manager)
    for headers in ({}, HTMX):
        response = client.get("/orders?from=yesterday&number=abc&sort=bogus", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "From: enter a date as year-month-day" in html
        assert "Number: enter an order number" in html and "Sort: choose" in html
        assert "createdDateUtc" not in html and "ISO 8601" not in html and "$sort" not in html


def test_the_list_offers_select_all_and_the_report_above_the_table(client, floor, manager):
    sign_in(client, manager)
    html = client.get("/orders").get_data(as_text=True)
    assert "data-select-all" in html
    assert html.index('id="batch-report"') < html.index('<table class="orders">')
    fragment = client.get("/orders?status=New", headers=HTMX).get_data(as_text=True)
    assert "data-select-all" in fragment


# --- customers --------------------------------------------------------------------------------

@pytest.fixture
def placed(app, customer, catalog):
    """A web-shop order of the customer's, with an address and shipping."""
    from decimal import Decimal

    from app.services import baskets

    basket = baskets.create_basket(user=customer)
    baskets.add_line(user=customer, guid=basket.guid, product_code="BURGER",
                     quantity=Decimal(2))
    return baskets.checkout_basket(
        user=customer, device=None, guid=basket.guid, currency="EUR", shipping_method="Standard",
        shipping_total=Decimal("4.95"), discount_total=Decimal(0),
        shipping_address={"firstName": "Cora", "lastName": "Customer", "line1": "Keizersgracht 1",
                          "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL"})


STAFF_ONLY = ("Processable", "Void", "Device", "Stations", "Items and stations", "History",
              "Dispatched to", "order-grid", "Kitchen", "Pass", "data-select-all")


def test_a_customer_sees_a_customers_list(client, placed, customer):
    sign_in(client, customer)
    for headers in ({}, HTMX):
        response = client.get("/orders", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
        assert f"Order {placed.number}" in html and "2× Burger" in html
        assert "29.95 EUR" in html and "Received" in html
        assert [word for word in STAFF_ONLY if word in html] == []
    assert 'class="my-orders"' in client.get("/orders?status=New").get_data(as_text=True)


def test_a_customer_sees_their_order_as_a_customer(client, placed, customer):
    sign_in(client, customer)
    for headers in ({}, HTMX):
        response = client.get(f"/orders/{placed.id}", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert ("<html" in html) == (not headers)
        for shown in (f"Order {placed.number}", "Received", "Burger", "25.00 EUR", "4.95 EUR", "29.95 EUR", "Keizersgracht 1", "1015 CJ Amsterdam",
                      "Standard"):
            assert shown in html, shown
        assert [word for word in STAFF_ONLY if word in html] == []
        assert "Mark " not in html and "Cancel…" not in html


def test_a_customers_status_words(client, placed, customer, manager):
    order_status.set_order_status(user=manager, order_id=placed.id, status=S.PROCESSING)
    sign_in(client, customer)
    html = client.get(f"/orders/{placed.id}").get_data(as_text=True)
    assert 'aria-current="step">In progress</li>' in html


def test_a_search_for_a_digit_that_is_no_number_finds_by_name(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("COLA", 1), name="Room ²")
    sign_in(client, manager)
    found = client.get("/orders?q=²")
    assert found.status_code == 200 and "Room ²" in found.get_data(as_text=True)
