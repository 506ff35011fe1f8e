"""A session that ends while a dashboard page is open, in Chromium."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_dashboard import sign_in, sign_out
from tests.conftest import PASSWORD, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def shift(catalog, waiter):
    return [make_ticket(waiter, catalog, *items, name=f"Table {i + 1}")[1][0]
            for i, items in enumerate([(("BURGER", 2), ("COLA", 1)), (("FRIES", 1),)])]


def test_a_session_ended_in_another_tab_leads_to_sign_in_and_back(page, live_server, shift,
                                                                  manager, screenshot):
    """Signing out in another tab ends the session this tab's page lives on (one cookie per
    browser): the page's 2-second refresh takes the whole tab to the sign-in page, never
    swapping that page into its own, and signing in there comes back to the order."""
    order = shift[0]
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{order.id}")
    expect(page.get_by_role("heading", name=re.compile("Order 1"))).to_be_visible()

    other = page.context.new_page()
    other.goto(f"{live_server.url}/orders")
    sign_out(other, "manager")

    page.wait_for_url(re.compile(r"/sign-in\?next=/orders/"), timeout=6000)
    expect(page.locator("header.topbar nav")).to_have_count(0)  # one header, nobody named
    expect(page.locator(".flash.info")).to_have_text(
        "Your session ended. Sign in again to go on where you were.")
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(1)
    screenshot(page, "session-ended-sign-in")
    page.get_by_label("User name").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/orders/{order.id}")
    expect(page.get_by_role("heading", name=re.compile("Order 1"))).to_be_visible()


def test_a_button_pressed_after_the_cookies_went_leads_to_sign_in_and_back(
        browser, live_server, shift, manager, app, monkeypatch):
    """Another browser context is another person's browser: it cannot end this one's cookie
    session, so here the cookies are cleared, as a person (or the browser) does. With CSRF
    checked, as in production, the press fails its token check first: that too leads to
    sign-in, not to "the form expired"."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders")
    page.evaluate("document.querySelector('#orders-results').removeAttribute('hx-trigger')")
    context.clear_cookies()
    page.get_by_label("Select order 2").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/sign-in\?next=/orders$"))
    expect(page.locator("#batch-report")).to_have_count(0)
    page.get_by_label("User name").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/orders")
    context.close()
