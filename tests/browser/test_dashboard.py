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


def open_menu(page, name):
    """Open one of the top bar's menus (Admin, or the person's own, named by their name)."""
    page.locator("header.topbar summary").filter(has_text=re.compile(f"^{re.escape(name)}$")
                                                 ).click()


def sign_out(page, name):
    open_menu(page, name)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


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
    # A secondary move: behind "More" on the item's row.
    page.locator("#item-2").get_by_text("More").click()
    page.get_by_role("button", name="Mark Ready (item 2 Cola)").click()
    expect(page.locator("#item-2 td.cell[data-station=Bar]")).to_contain_text("Ready")
    # The order's next step moves no cell back: the Cola is Ready, so the order's is Ready too.
    page.get_by_role("button", name="Mark Ready (order 1)").click()
    expect(page.locator(".order-head h1")).to_contain_text("Ready")
    expect(page.locator(".timeline")).to_contain_text("Item 2 Cola: New → Ready")
    expect(page.locator(".timeline")).to_contain_text("Order 1: New → Ready")
    assert page.evaluate("window.stillHere") is True
    screenshot(page, "order-page")

    # Someone changes the order through the API meanwhile: the next press is refused loudly,
    # beside the button that was pressed.
    page.evaluate("document.querySelector('#order-detail').removeAttribute('hx-trigger')")
    api = client.post(f"/api/orders/{shift[0].id}/status", json={"status": "Completed"},
                      headers=bearer(manager))
    assert api.status_code == 200
    page.get_by_role("button", name="Mark Completed (Kitchen)").click()
    refusal = page.locator("#order-stations tr.row-message .flash.warn")
    expect(refusal).to_contain_text("Someone else changed this order")
    expect(page.locator(".order-head h1")).to_contain_text("Completed")
    assert page.evaluate("window.stillHere") is True

    sign_out(page, "manager")


def test_a_click_the_moment_the_order_is_redrawn_still_goes_through_htmx(page, live_server,
                                                                         shift, manager):
    # htmx wires new forms when they settle; a slow settle makes the moment before it wide
    # enough to hit every time. A click there once posted the form bare and loaded a new page.
    sign_in(page, live_server, "manager")
    page.get_by_role("link", name="1", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Order 1"))).to_be_visible()
    page.wait_for_load_state("domcontentloaded")  # the deferred scripts (htmx, ours) have run
    page.evaluate("window.stillHere = true; htmx.config.defaultSettleDelay = 2000")
    page.get_by_role("button", name="Mark Processing (item 2 Cola)").click()
    expect(page.locator("#item-2 td.cell[data-station=Bar]")).to_contain_text("Processing")
    expect(page.locator("#order-detail.htmx-settling")).to_have_count(1)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Mark Processing (order 1)").click()
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
    open_menu(page, "Admin")
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


# --- the order page's controls -------------------------------------------------------------

@pytest.mark.parametrize("width", [1366, 1024])
def test_the_order_page_offers_one_next_step_per_row(browser, live_server, shift, manager,
                                                     screenshot, width):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  has_touch=width < 1366)
    page = context.new_page()
    order_status.set_item_status(user=manager, order_id=shift[0].id, item_id=2, status="Ready")
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{shift[0].id}")
    # One primary button per level: the order, its stations (Kitchen, Bar, Pass), its items.
    primaries = page.locator("#order-detail button.primary")
    expect(primaries).to_have_count(1 + 3 + 2)
    expect(page.locator("#item-2 button.primary")).to_have_text("Mark Completed (item 2 Cola)")
    expect(page.locator("#item-1 button.primary")).to_have_text(
        "Mark Processing (item 1 Burger)")
    # The row's status is drawn beside it; the order's stage is highlighted.
    expect(page.locator("#item-2 td.item-status")).to_have_text("Ready")
    expect(page.locator(".stepper li.current")).to_have_text("New")
    # Other moves are secondary, impossible ones absent: a Ready item can go back to
    # Processing, never to New.
    more = page.locator("#item-2 details.more")
    more.locator("summary").click()
    expect(more.locator("button")).to_have_text(["Back to Processing (item 2 Cola)"])
    expect(more.get_by_role("link", name="Cancel… (item 2 Cola)")).to_be_visible()
    # Touch targets and a tablet's width: every control at least 44 px high, nothing wider
    # than the window.
    heights = page.evaluate("""Array.from(document.querySelectorAll(
        '#order-detail button, #order-detail .button, #order-detail summary'))
        .filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)""")
    assert heights and min(heights) >= 44, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The top bar stays one line.
    assert page.locator("header.topbar").bounding_box()["height"] < 70
    screenshot(page, f"order-page-next-steps-{width}")
    context.close()


def test_cancel_asks_for_confirmation(page, live_server, shift, manager, screenshot):
    order = shift[0]
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{order.id}")
    page.wait_for_load_state("domcontentloaded")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    # Dismissed: nothing changes.
    page.once("dialog", lambda dialog: answer(dialog, False))
    page.locator("#item-2 details.more summary").click()
    page.get_by_role("link", name="Cancel… (item 2 Cola)").click()
    expect(page.locator("#item-2 td.item-status")).to_have_text("New")
    assert asked == ["Cancel item 2 Cola of order 1? Cancelled is final: it cannot be undone."]
    # Accepted (the menu is still open): cancelled, and the row has no controls left.
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("link", name="Cancel… (item 2 Cola)").click()
    expect(page.locator("#item-2 td.item-status")).to_have_text("Cancelled")
    expect(page.locator("#item-2 form.moves")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("Item 2 Cola: New → Cancelled")

    # The whole order, once cancelled, offers nothing but Delete.
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("link", name="Cancel… (order 1)").click()
    expect(page.locator(".order-head h1")).to_contain_text("Cancelled")
    expect(page.locator("#order-detail form.moves")).to_have_count(0)
    expect(page.locator("#order-detail").get_by_role("button")).to_have_count(0)
    expect(page.locator("#order-detail").get_by_role("link", name="Delete…")).to_be_visible()
    screenshot(page, "order-page-cancelled")


def test_cancel_asks_on_a_page_of_its_own_without_javascript(browser, live_server, shift,
                                                             manager, screenshot):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{shift[1].id}")
    page.locator("#item-1 details.more summary").click()
    page.get_by_role("link", name="Cancel… (item 1 Fries)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel item 1 Fries of order 2?")
    screenshot(page, "cancel-confirm-page")
    page.get_by_role("button", name="Cancel item 1 Fries of order 2").click()
    expect(page.locator("#item-1 td.item-status")).to_have_text("Cancelled")
    context.close()


def test_cancelling_selected_orders_asks_first_and_reports_above_the_table(
        page, live_server, shift, manager, screenshot):
    sign_in(page, live_server, "manager")
    select_all = page.get_by_label("Select every order on this page")
    select_all.check()
    expect(page.locator('input[name="ids"]:checked')).to_have_count(4)
    page.get_by_label("Select order 1").uncheck()
    expect(select_all).not_to_be_checked()
    assert page.evaluate("document.querySelector('[data-select-all]').indeterminate") is True
    page.get_by_label("With the selected orders").select_option("status:Cancelled")
    page.get_by_role("button", name="Apply").click()
    question = page.locator("#batch-report .confirm")
    expect(question).to_contain_text("Cancel 3 orders?")
    expect(question).to_contain_text("Orders 2, 3, 4.")
    expect(page.locator(".counts")).to_contain_text("Cancelled 0")
    # The answer sits above the table, where the button was pressed.
    assert question.bounding_box()["y"] < page.locator("table.orders").bounding_box()["y"]
    screenshot(page, "orders-list-cancel-question")
    question.get_by_role("link", name="Keep them").click()
    expect(question).to_have_count(0)
    expect(page.locator('input[name="ids"]:checked')).to_have_count(3)
    page.get_by_role("button", name="Apply").click()
    page.locator("#batch-report").get_by_role("button", name="Cancel 3 orders").click()
    expect(page.locator("#batch-result .outcome.changed")).to_have_count(3)
    expect(page.locator(".counts")).to_contain_text("Cancelled 3")


def test_a_refusal_far_down_the_page_is_brought_into_view(browser, live_server, catalog,
                                                          waiter, manager, client):
    _, (order,) = make_ticket(waiter, catalog, *[("COLA", 1, f"glass {n}") for n in range(12)])
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    page = context.new_page()
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{order.id}")
    page.evaluate("document.querySelector('#order-detail').removeAttribute('hx-trigger')")
    client.post(f"/api/orders/{order.id}/status", json={"status": "Ready"},
                headers=bearer(manager))
    last = page.locator("#item-12")
    last.scroll_into_view_if_needed()
    last.get_by_role("button", name="Mark Processing (item 12 Cola)").click()
    refusal = page.locator("tr.row-message .flash.warn")
    expect(refusal).to_contain_text("Someone else changed this order")
    expect(refusal).to_be_in_viewport()
    context.close()
