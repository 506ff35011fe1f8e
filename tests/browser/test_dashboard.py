"""The dashboard as a person uses it, in Chromium."""
import re

import pytest
from playwright.sync_api import expect

from app.services import order_status
from tests.conftest import PASSWORD, bearer, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def shift(catalog, waiter):
    made = []
    for i, items in enumerate([(("BURGER", 2), ("COLA", 1)), (("FRIES", 1),),
                               (("COLA", 3), ("BREAD", 1)), (("BURGER", 1), ("FRIES", 2))]):
        _, (order,) = make_ticket(waiter, catalog, *items, name=f"Table {i + 1}")
        made.append(order)
    return made


def sign_in(page, server, user_name):
    page.goto(server.url + "/sign-in")
    page.get_by_label("User name").fill(user_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_manager_works_an_order_in_place(page, live_server, shift, manager, client,
                                         screenshot):
    sign_in(page, live_server, "manager")
    expect(page.locator("table.orders tbody tr")).to_have_count(4)
    screenshot(page, "orders-list")

    # Filtering updates the table and the URL; the back button restores it.
    page.get_by_label("Search").fill("Table 2")
    expect(page.locator("table.orders tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=Table\+2"))
    page.go_back()
    expect(page.locator("table.orders tbody tr")).to_have_count(4)

    page.get_by_role("link", name="1", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Order 1"))).to_be_visible()
    # A marker on the window survives only if no full page load happens.
    page.evaluate("window.stillHere = true")
    page.get_by_role("button", name="Item 2 Cola: set Ready").click()
    expect(page.locator("#item-2 td.cell[data-station=Bar]")).to_contain_text("Ready")
    page.get_by_role("button", name="Whole order: set Processing").click()
    expect(page.locator(".order-head h1")).to_contain_text("Processing")
    expect(page.locator(".timeline")).to_contain_text("Item 2 Cola: New → Ready")
    assert page.evaluate("window.stillHere") is True
    screenshot(page, "order-page")

    # Someone changes the order through the API meanwhile: the next press is refused loudly.
    page.evaluate("document.querySelector('#order-detail').removeAttribute('hx-trigger')")
    api = client.post(f"/api/orders/{shift[0].id}/status", json={"status": "Ready"},
                      headers=bearer(manager))
    assert api.status_code == 200
    page.get_by_role("button", name="Kitchen: set Completed").click()
    expect(page.locator("#order-detail .flash.warn")).to_contain_text(
        "Someone else changed this order")
    expect(page.locator(".order-head h1")).to_contain_text("Ready")
    assert page.evaluate("window.stillHere") is True

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_click_the_moment_the_order_is_redrawn_still_goes_through_htmx(page, live_server,
                                                                         shift, manager):
    # htmx wires new forms when they settle; a slow settle makes the moment before it wide
    # enough to hit every time. A click there once posted the form bare and loaded a new page.
    sign_in(page, live_server, "manager")
    page.get_by_role("link", name="1", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Order 1"))).to_be_visible()
    page.wait_for_load_state("domcontentloaded")  # the deferred scripts (htmx, ours) have run
    page.evaluate("window.stillHere = true; htmx.config.defaultSettleDelay = 2000")
    page.get_by_role("button", name="Item 2 Cola: set Ready").click()
    expect(page.locator("#item-2 td.cell[data-station=Bar]")).to_contain_text("Ready")
    expect(page.locator("#order-detail.htmx-settling")).to_have_count(1)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Whole order: set Processing").click()
    assert answer.value.status == 200  # htmx's answer: a bare post would be redirected
    expect(page.locator(".order-head h1")).to_contain_text("Processing")
    assert page.evaluate("window.stillHere") is True


def test_process_selected_orders_from_the_list(page, live_server, shift, manager, app):
    sign_in(page, live_server, "manager")
    for order in shift[:2]:
        page.get_by_label(f"Select order {order.number}").check()
    page.get_by_label("With the selected orders").select_option("status:Completed")
    page.get_by_role("button", name="Apply").click()
    report = page.locator("#batch-result")
    expect(report.locator(".outcome.changed")).to_have_count(2)
    # The list refreshes itself: two orders now count as completed.
    expect(page.locator(".counts")).to_contain_text("Completed 2")


def test_list_refreshes_live_when_an_order_changes_elsewhere(page, live_server, shift,
                                                             manager):
    sign_in(page, live_server, "manager")
    expect(page.locator(".counts")).to_contain_text("Cancelled 0")
    order_status.set_order_status(user=manager, order_id=shift[3].id, status="Cancelled")
    expect(page.locator(".counts")).to_contain_text("Cancelled 1", timeout=4000)


def test_admin_switches_a_station_off_in_place(page, live_server, shift, admin, screenshot):
    sign_in(page, live_server, "admin")
    page.get_by_role("link", name="Stations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stations")
    toggle = page.get_by_role("button", name="Bar active")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.stillHere = true")
    toggle.click()
    expect(page.get_by_role("button", name="Bar active")).to_have_attribute("aria-pressed",
                                                                          "false")
    assert page.evaluate("window.stillHere") is True
    screenshot(page, "admin-stations")


def test_list_reads_on_a_tablet(browser, live_server, shift, manager, screenshot):
    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    page = tablet.new_page()
    sign_in(page, live_server, "manager")
    expect(page.locator("table.orders tbody tr")).to_have_count(4)
    screenshot(page, "orders-list-tablet")
    tablet.close()
