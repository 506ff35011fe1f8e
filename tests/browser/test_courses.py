"""Courses that fire, in Chromium: a held course greyed on the Kitchen's screen, fired from the
expo screen in another browser, and shown un-held on the Kitchen's screen without a reload."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.services import kiosk_links, products
from tests.course_menu import order_courses, set_up_menu

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def open_screen(page, url, secret, screen):
    page.goto(f"{url}/kiosk/{screen}?key={secret}")
    expect(page).to_have_url(re.compile(rf"/kiosk/{screen}$"))
    expect(page.locator("[data-board]")).to_be_visible()
    page.evaluate("window.stillHere = true")  # survives only if the page never reloads


def test_a_held_course_is_greyed_then_fired_from_the_expo(
        page, browser, browser_context_args, live_server, app, waiter, admin, csrf_on,
        screenshot):
    device = set_up_menu()
    # Toast takes three seconds less than the steak: it is due three seconds after the firing.
    products.create_product(code="TOAST", name="Toast", price=Decimal(2), course=2,
                            station_names=["Kitchen"], prep_seconds=897)
    order_courses(waiter, device, "SOUP", "STEAK", "SALAD", "TOAST", name="Table 5")
    _, kitchen_key = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                   name="Kitchen wall")
    _, expo_key = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Pass")

    open_screen(page, live_server.url, kitchen_key, "Kitchen")
    table5 = page.locator("article.card", has_text="Table 5")
    held = table5.locator(".line.held")
    expect(held).to_have_count(3)
    expect(held.first).to_contain_text("Course 2 – held")
    expect(held.first).to_be_disabled()
    # Greyed: the held lines are drawn dimmer than the soup, which may be started.
    soup = table5.locator(".line", has_text="Soup")
    expect(soup).to_be_enabled()
    assert held.first.evaluate("e => getComputedStyle(e).backgroundColor") != \
        soup.evaluate("e => getComputedStyle(e).backgroundColor")
    # A tap on the card's head starts the soup only; the held items stay as they are.
    table5.locator("button.head").click()
    expect(soup).to_contain_text("Processing")
    expect(held).to_have_count(3)
    screenshot(page, "kiosk-course-held")

    # The expo, in a browser of its own (a kiosk link makes the whole browser its screen).
    expo_context = browser.new_context(**browser_context_args)
    try:
        expo = expo_context.new_page()
        open_screen(expo, live_server.url, expo_key, "expo")
        expo_card = expo.locator("article.card", has_text="Table 5")
        fire = expo_card.get_by_role("button", name="Fire course 2")
        expect(fire).to_be_enabled()
        fire.click()
        expect(expo_card.get_by_role("button", name="Fire course 2")).to_have_count(0)
        assert expo.evaluate("window.stillHere") is True  # htmx swapped the board
    finally:
        expo_context.close()

    # The Kitchen's screen follows within 2 seconds: nothing held, the steak first (15 minutes,
    # due now), the toast and the salad (5 minutes) counting down to their start.
    expect(held).to_have_count(0, timeout=2000)
    names = table5.locator(".line .name")
    expect(names).to_have_text(["Steak", "Soup", "Toast", "Salad"])
    salad = table5.locator(".line", has_text="Salad")
    expect(salad.locator(".start")).to_have_text(re.compile(r"^start in (10:00|9:[0-5]\d)$"))
    expect(table5.locator(".line", has_text="Steak")).to_be_enabled()
    screenshot(page, "kiosk-course-fired")
    # When the toast's start comes, it moves to the top of the card, by itself.
    expect(names).to_have_text(["Toast", "Steak", "Soup", "Salad"], timeout=6000)
    expect(table5.locator(".line", has_text="Toast")).to_contain_text("start now")
    assert page.evaluate("window.stillHere") is True
