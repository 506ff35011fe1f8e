"""Rush in Chromium: a manager marks an order rush on the dashboard, and the station screen
shows that card first, in the rush colour and with the word RUSH."""
import re

import pytest
from playwright.sync_api import expect

from app.services import kiosk_links
from app.services.tickets import create_ticket
from tests.browser.test_dashboard import sign_in
from tests.conftest import lines, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(app):
    """The real thing: the dashboard's POST must carry the CSRF token from the page."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_marking_rush_on_the_dashboard_puts_the_card_first_on_the_station_screen(
        browser, page, live_server, catalog, waiter, manager, admin, csrf_on, screenshot):
    make_ticket(waiter, catalog, ("BURGER", 2), name="Table 1")
    make_ticket(waiter, catalog, ("FRIES", 1), name="Table 2")
    _, (takeout,) = create_ticket(user=waiter, device=catalog, name="Window",
                                  lines=lines(("BURGER", 1), ("FRIES", 1)),
                                  order_type="takeout")
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    screen = browser.new_page(viewport={"width": 1366, "height": 900})
    screen.goto(f"{live_server.url}/kiosk/Kitchen?key={secret}")
    expect(screen).to_have_url(re.compile(r"/kiosk/Kitchen$"))
    cards = screen.locator("article.card")
    expect(cards).to_have_count(3)
    expect(cards.first).to_contain_text("Table 1")
    expect(screen.locator(".rush-banner")).to_have_count(0)

    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{takeout.id}")
    page.evaluate("window.stillHere = true")
    page.get_by_role("button", name="Mark rush").click()
    expect(page.locator(".order-head h1")).to_contain_text("RUSH")
    expect(page.get_by_role("button", name="Clear rush")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Marked RUSH")
    assert page.evaluate("window.stillHere") is True  # swapped in place by htmx
    screenshot(page, "order-page-rush")

    # The wall screen redraws by itself: the takeout card first, marked RUSH in words and
    # in its own colour.
    expect(cards.first).to_contain_text("Window", timeout=5000)
    expect(cards.first.locator(".rush-banner")).to_have_text("RUSH")
    expect(cards.first).to_contain_text("Takeout")
    expect(cards.first).to_have_class(re.compile(r"\brush\b"))
    assert screen.evaluate(
        "getComputedStyle(document.querySelector('.rush-banner')).backgroundColor"
    ) == "rgb(217, 70, 239)"
    expect(cards.nth(1)).to_contain_text("Table 1")
    expect(cards.nth(1).locator(".rush-banner")).to_have_count(0)
    screenshot(screen, "kiosk-rush-takeout")
    screen.close()
