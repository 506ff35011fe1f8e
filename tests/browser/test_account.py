"""What a customer, a cook and an integrator meet first, in Chromium: a customer's orders on a
phone, times in the person's zone, a home screen, one-time secrets with a copy button, the
too-many-attempts page and a kiosk's error page."""
import re
from datetime import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.orders import Order
from app.services import baskets, kiosk_links, order_status, user_settings
from tests.browser.conftest import LiveServer
from tests.browser.test_dashboard import open_menu, sign_in
from tests.conftest import PASSWORD, make_ticket, make_user
from tests.test_limits import limited  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 1}


@pytest.fixture
def web_orders(app, customer, catalog, manager):
    """Two web-shop orders of the customer's, one of them being made."""
    placed = []
    for code, quantity in (("BURGER", "2"), ("COLA", "12")):
        basket = baskets.create_basket(user=customer)
        baskets.add_line(user=customer, guid=basket.guid, product_code=code,
                         quantity=Decimal(quantity))
        placed.append(baskets.checkout_basket(
            user=customer, device=None, guid=basket.guid, currency="EUR",
            shipping_method="Standard", shipping_total=Decimal("4.95"),
            shipping_address={"firstName": "Cora", "lastName": "Customer",
                              "line1": "Keizersgracht 1", "city": "Amsterdam",
                              "postalCode": "1015 CJ", "country": "NL",
                              "companyName": "Customer & Daughters Printing Company"}))
    order_status.set_order_status(user=manager, order_id=placed[0].id, status="Processing")
    return placed


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_customer_follows_their_orders_on_a_phone(browser, live_server, web_orders,
                                                    screenshot):
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    sign_in(page, live_server, "customer")
    expect(page.get_by_role("heading", level=1)).to_have_text("My orders")
    cards = page.locator(".my-order")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(f"Order {web_orders[1].number}")
    expect(cards.first).to_contain_text("12× Cola")
    expect(cards.first).to_contain_text("43.35 EUR")
    expect(cards.nth(1)).to_contain_text("In progress")
    for staff_only in ("Processable", "Void", "Device", "Station"):
        expect(page.get_by_text(staff_only)).to_have_count(0)
    assert no_sideways_scroll(page)
    screenshot(page, "customer-orders-390")

    cards.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Order {web_orders[0].number}")
    detail = page.locator("#order-detail")
    expect(detail.locator(".stepper [aria-current=step]")).to_have_text("In progress")
    expect(detail).to_contain_text("Keizersgracht 1")
    expect(detail.locator(".grand")).to_contain_text("29.95 EUR")
    expect(detail.locator(".timeline, #order-grid, form")).to_have_count(0)
    assert no_sideways_scroll(page)
    screenshot(page, "customer-order-390")
    phone.close()


def test_times_are_local_and_named(page, live_server, catalog, waiter, manager, app,
                                   monkeypatch, screenshot):
    monkeypatch.setitem(app.config, "SITE_TIMEZONE", "Europe/Amsterdam")
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    db.session.get(Order, order.id).created_at = datetime(2026, 7, 1, 10, 0)
    db.session.commit()
    sign_in(page, live_server, "manager")
    row = page.locator(f"#order-{order.id}")
    expect(row.locator("time")).to_have_text("2026-07-01 12:00 CEST")
    expect(page.locator(".page-head")).to_contain_text("Times in Europe/Amsterdam")

    # The person's own zone, chosen on their settings page, wins.
    open_menu(page, "manager")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Time zone").select_option("America/New_York")
    screenshot(page, "settings")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages .flash")).to_have_text("Your settings were saved.")
    page.goto(f"{live_server.url}/orders/{order.id}")
    expect(page.locator(".facts time").first).to_have_text("2026-07-01 06:00 EDT")
    # History lines are now (December here): winter time.
    expect(page.locator(".timeline time").first).to_contain_text(re.compile(r" E[SD]T$"))


def test_a_cook_starts_on_their_station_screen(page, live_server, catalog):
    cook = make_user("cook", ["orderRead", "orderUpdate"])
    user_settings.update_settings(user=cook, time_zone=None, home_screen="station:Kitchen")
    page.goto(live_server.url + "/sign-in")
    page.get_by_label("User name").fill("cook")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/kiosk/Kitchen")
    expect(page.locator(".clock")).to_have_text(re.compile(r"\d\d:\d\d"))


def test_a_new_api_key_is_shown_once_with_a_copy_button(browser, live_server, manager,
                                                        screenshot):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, live_server, "manager")
    open_menu(page, "manager")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Kitchen bridge")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-api-key").inner_text()
    assert secret.startswith("ohk_")
    expect(page.locator("#api-keys-table")).to_contain_text("Active")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "api-key-created")
    # A reload asks nothing, makes no second key, and no longer shows the secret.
    page.reload()
    expect(page.locator("#new-api-key")).to_have_count(0)
    expect(page.locator("#api-keys-table tbody tr")).to_have_count(1)
    context.close()


def test_a_new_kiosk_link_has_a_copy_button_and_its_screen_an_error_page_of_its_own(
        page, live_server, catalog, admin, screenshot):
    sign_in(page, live_server, "admin")
    open_menu(page, "Admin")
    page.get_by_role("link", name="Kiosk links").click()
    page.get_by_label("Name (where the screen is)").fill("Grill wall")
    page.locator('select[name="target"]').select_option("Kitchen")
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    screenshot(page, "kiosk-link-created")

    link = kiosk_links.list_kiosk_links(user=admin)[0]
    url = page.locator("#new-kiosk-link").inner_text()
    screen = page.context.browser.new_context().new_page()
    screen.goto(url)
    expect(screen.locator("[data-board]")).to_be_visible()
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    screen.reload()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(screen.get_by_role("link")).to_have_count(0)
    screenshot(screen, "kiosk-link-revoked")
    screen.context.close()


def test_too_many_sign_ins_keep_the_form(page, waiter, limited, screenshot):  # noqa: F811
    server = LiveServer(limited(SIGN_IN_LIMIT_PER_ACCOUNT="2 per minute"))
    try:
        page.goto(server.url + "/sign-in")
        for _ in range(3):
            page.get_by_label("User name").fill("waiter")
            page.get_by_label("Password").fill("wrong-password")
            page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".card p.error")).to_contain_text("Too many sign-in attempts")
        expect(page.get_by_label("User name")).to_have_value("waiter")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        screenshot(page, "sign-in-too-many")
    finally:
        server.stop()


def test_the_top_bar_stays_one_line_on_a_tablet(browser, live_server, catalog, admin,
                                                screenshot):
    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    page = tablet.new_page()
    sign_in(page, live_server, "admin")
    # Measured once the page has loaded its stylesheet: on a busy machine the first layout
    # can come before it.
    page.wait_for_load_state("load")
    assert page.locator("header.topbar").bounding_box()["height"] < 70
    open_menu(page, "Admin")
    expect(page.get_by_role("link", name="Kiosk links")).to_be_visible()
    screenshot(page, "nav-tablet-admin-menu")
    tablet.close()
