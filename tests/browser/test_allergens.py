"""Guest allergies in Chromium: a station screen shows modifiers under the item and a red
banner naming the allergy in words, and refuses to bump that card until someone acknowledges
it, by button or by key."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.core.modifiers import Modifier
from app.extensions import db
from app.models.orders import Order
from app.services import kiosk_links, products
from app.services.tickets import LineInput, create_ticket
from tests.conftest import make_ticket

pytestmark = pytest.mark.browser


def test_an_allergy_card_is_acknowledged_before_it_can_be_bumped(
        browser, live_server, catalog, waiter, admin, screenshot):
    products.update_product("BURGER", code="BURGER", name="Burger", price=Decimal("12.50"),
                            station_names=["Kitchen", "Pass"], allergens=["gluten", "milk"])
    make_ticket(waiter, catalog, ("FRIES", 2), name="Table 1")
    _, (order,) = create_ticket(user=waiter, device=catalog, name="Table 2", lines=[
        LineInput("BURGER", Decimal(1), "well done",
                  modifiers=(Modifier("Extra cheese", Decimal(2)), Modifier("Bacon")),
                  allergies=("milk", "peanuts")),
        LineInput("FRIES", Decimal(1), modifiers=(Modifier("No salt"),))])
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    screen = browser.new_page(viewport={"width": 1366, "height": 900})
    screen.goto(f"{live_server.url}/kiosk/Kitchen?key={secret}")
    expect(screen).to_have_url(re.compile(r"/kiosk/Kitchen$"))
    cards = screen.locator("article.card")
    expect(cards).to_have_count(2)
    card = cards.nth(1)
    expect(card).to_contain_text("Table 2")
    banner = card.locator(".allergy-banner")
    expect(banner).to_have_text(re.compile(r"ALLERGY\s+Peanuts, Milk"))
    assert banner.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(185, 28, 28)"
    expect(card.locator(".modifier")).to_have_text(["+ Bacon", "+ 2 × Extra cheese",
                                                    "+ No salt"])
    expect(card.locator(".allergy-mark")).to_have_text(
        "Allergy: Peanuts, Milk — contains Milk")
    expect(cards.first.locator(".allergy-banner")).to_have_count(0)
    # Both cards on the first page of a small wall screen: the marks keep the card short.
    expect(screen.locator(".pager .page-of")).to_have_text("All 2 cards on screen")
    # Bump waits; Enter on the selected card acknowledges instead.
    expect(card.get_by_role("button", name=re.compile("Bump"))).to_be_disabled()
    screenshot(screen, "kiosk-allergy-modifiers")

    screen.keyboard.press("2")
    expect(card).to_have_class(re.compile(r"\bselected\b"))
    screen.keyboard.press("Enter")
    expect(card.locator(".allergy-banner")).to_contain_text("acknowledged")
    expect(cards).to_have_count(2)  # acknowledged, not bumped
    db.session.expire_all()
    stored = db.session.get(Order, order.id)
    assert {c.status for c in stored.cells} == {"New"}
    assert [(e.action, e.target) for e in stored.history][-1] == (
        "allergies acknowledged", "Kitchen")

    bump = cards.nth(1).get_by_role("button", name=re.compile("Bump"))
    expect(bump).to_be_enabled()
    bump.click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Table 1")
    screen.close()


def test_the_acknowledge_button_does_it_too(browser, live_server, catalog, waiter, admin):
    create_ticket(user=waiter, device=catalog, name="Table 5", lines=[
        LineInput("FRIES", Decimal(1), allergies=("celery",))])
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    screen = browser.new_page(viewport={"width": 1024, "height": 768})
    screen.goto(f"{live_server.url}/kiosk/Kitchen?key={secret}")
    card = screen.locator("article.card")
    expect(card.locator(".allergy-banner")).to_contain_text("Celery")
    card.get_by_role("button", name=re.compile("Acknowledge allergy")).click()
    expect(card.get_by_role("button", name=re.compile("Bump"))).to_be_enabled()
    screen.keyboard.press("1")
    screen.keyboard.press("Enter")
    expect(card).to_have_count(0)
    screen.close()
