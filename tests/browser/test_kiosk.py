"""The station kiosks as a kitchen uses them, in Chromium: live cards, taps, keys, recall, voids,
the lost-connection banner, and screenshots of a busy station and the expo screen."""
import re
import socket
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from werkzeug.serving import WSGIRequestHandler, make_server

from app.core import status as S
from app.extensions import db
from app.models import utcnow
from app.services import kiosk_links, order_status, stations
from tests.conftest import bearer, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(app):
    """The real thing: the screen's POSTs must carry the CSRF token from the page."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def kitchen_key(admin, catalog):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen", name="Kitchen wall")
    return secret


def open_screen(page, url, secret, screen="Kitchen"):
    page.goto(f"{url}/kiosk/{screen}?key={secret}")
    expect(page).to_have_url(re.compile(rf"/kiosk/{screen}$"))  # the key left the address bar
    expect(page.locator("[data-board]")).to_be_visible()
    page.evaluate("window.stillHere = true")  # survives only if the page never reloads


def card(page, label):
    return page.locator("article.card", has_text=label)


def new_ticket(client, waiter, name, *items):
    response = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": name, "items": [{"productCode": code, "quantity": quantity}
                                for code, quantity in items]})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_a_ticket_from_the_api_appears_then_taps_bump_and_recall(
        page, live_server, client, waiter, kitchen_key, csrf_on):
    open_screen(page, live_server.url, kitchen_key)
    expect(page.locator(".all-clear")).to_be_visible()

    new_ticket(client, waiter, "Table 9", ("BURGER", 2), ("FRIES", 1))
    table9 = card(page, "Table 9")
    expect(table9).to_be_visible(timeout=2000)  # contract 5.2: within 2 seconds, no reload
    expect(page.locator("body")).to_have_attribute("data-beeps", "1")  # the new-card signal
    expect(page.locator("#kiosk-all-day")).to_contain_text("2 Burger")

    # Tap an item: that item moves on. Tap the card's top: the whole card moves on.
    table9.get_by_role("button", name=re.compile("^1 Fries: New")).click()
    expect(table9.locator(".line", has_text="Fries")).to_contain_text("Processing")
    expect(table9.locator(".head .state")).to_have_text("New")
    table9.locator("button.head").click()
    expect(table9.locator(".head .state")).to_have_text("Processing")
    expect(table9.locator(".line", has_text="Burger")).to_contain_text("Processing")

    # Bump: the card leaves. Recall: it comes back, one stage back (Ready).
    table9.get_by_role("button", name="Bump").click()
    expect(table9).to_have_count(0)
    page.get_by_role("button", name="Recall").click()
    expect(table9).to_be_visible()
    expect(table9.locator(".head .state")).to_have_text("Ready")
    assert page.evaluate("window.stillHere") is True


def test_a_bump_bar_works_the_screen_with_keys(page, live_server, client, waiter, kitchen_key,
                                               csrf_on):
    new_ticket(client, waiter, "Table 1", ("FRIES", 1))
    new_ticket(client, waiter, "Table 2", ("FRIES", 2))
    open_screen(page, live_server.url, kitchen_key)
    cards = page.locator("article.card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("ArrowRight")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press(" ")  # Space: the selected card one stage on
    expect(card(page, "Table 2").locator(".head .state")).to_have_text("Processing")
    expect(card(page, "Table 1").locator(".head .state")).to_have_text("New")
    page.keyboard.press("1")
    expect(cards.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Enter")  # bump
    expect(card(page, "Table 1")).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith("/recall")) as answer:
        page.keyboard.press("r")  # recall
    assert answer.value.status == 200
    expect(card(page, "Table 1")).to_be_visible()
    assert page.evaluate("window.stillHere") is True  # every key went through htmx
    for key in ("Enter", "Space", "Recall"):
        expect(page.locator("footer.keys")).to_contain_text(key)

    # The sound switch: on screen, on a key, and remembered by this device.
    switch = page.get_by_role("switch", name=re.compile("Sound"))
    expect(switch).to_have_attribute("aria-checked", "true")
    page.keyboard.press("s")
    expect(switch).to_have_attribute("aria-checked", "false")
    page.reload()
    expect(page.get_by_role("switch", name=re.compile("Sound"))).to_have_attribute(
        "aria-checked", "false")
    page.get_by_role("switch", name=re.compile("Sound")).click()
    expect(page.get_by_role("switch", name=re.compile("Sound"))).to_have_attribute(
        "aria-checked", "true")


def test_a_key_pressed_the_moment_the_board_is_redrawn_still_goes_through_htmx(
        page, live_server, client, waiter, kitchen_key, csrf_on):
    # htmx wires new forms when they settle; a slow settle makes the moment before it wide
    # enough to hit every time. A key there once posted the form bare and reloaded the screen.
    new_ticket(client, waiter, "Table 1", ("FRIES", 1))
    new_ticket(client, waiter, "Table 2", ("FRIES", 2))
    open_screen(page, live_server.url, kitchen_key)
    page.wait_for_load_state("domcontentloaded")  # the deferred scripts (htmx, ours) have run
    page.evaluate("htmx.config.defaultSettleDelay = 2000")
    page.keyboard.press(" ")  # Table 1 one stage on; the board is redrawn, not yet settled
    expect(card(page, "Table 1").locator(".head .state")).to_have_text("Processing")
    expect(page.locator("[data-board].htmx-settling")).to_have_count(1)
    with page.expect_response(lambda r: r.url.endswith("/bump")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200  # htmx's answer: a bare post would be redirected (303)
    expect(card(page, "Table 1")).to_have_count(0)
    assert page.evaluate("window.stillHere") is True


def test_cards_age_and_change_colour_by_themselves(page, live_server, catalog, waiter,
                                                   kitchen_key):
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, version=stations.get_station("Kitchen").version,
                            settings={"warnAfterMinutes": "0", "lateAfterMinutes": "1"})
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Slow table")
    db.session.execute(text("UPDATE order_entries SET processed_at = :at WHERE order_id = :id"),
                       {"at": utcnow() - timedelta(seconds=54), "id": order.id})
    db.session.commit()
    open_screen(page, live_server.url, kitchen_key)
    slow = card(page, "Slow table")
    expect(slow).to_have_class(re.compile(r"\bage-warn\b"))
    # No order changes, so no redraw from the server: the screen's own clock turns it late.
    expect(slow).to_have_class(re.compile(r"\bage-late\b"), timeout=10000)
    expect(slow.locator("[data-age]")).to_have_text(re.compile(r"^1:0\d$"))


def test_a_void_order_shows_as_a_cancellation_until_acknowledged(
        page, live_server, client, waiter, kitchen_key, csrf_on):
    ticket = new_ticket(client, waiter, "Table 4", ("BURGER", 2), ("FRIES", 1))
    open_screen(page, live_server.url, kitchen_key)
    expect(card(page, "Table 4")).to_have_count(1)
    changed = client.put(f"/api/tickets/{ticket['id']}", headers=bearer(waiter, "POS-1"),
                         json={"name": "Table 4", "items": [
                             {"productCode": "BURGER", "quantity": 1},
                             {"productCode": "FRIES", "quantity": 1}]})
    assert changed.status_code == 200
    void = page.locator("article.card.void")
    expect(void).to_be_visible(timeout=2000)
    expect(void).to_contain_text("VOID")
    expect(void.locator(".cancelled-line")).to_contain_text("−1")
    expect(void.locator(".cancelled-line")).to_contain_text("Burger")
    expect(page.locator("#kiosk-all-day")).to_contain_text("1 Burger")  # 2 - 1
    void.get_by_role("button", name="Acknowledge").click()
    expect(void).to_have_count(0)
    expect(card(page, "Table 4")).to_have_count(1)


class ClosingHandler(WSGIRequestHandler):
    # One request per connection: a stopped server then really is unreachable, as when its
    # process dies (a kept-alive connection would go on being served by its thread).
    protocol_version = "HTTP/1.0"


class RestartableServer:
    """The app on a fixed port that can be stopped and started again on that same port."""

    def __init__(self, app):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app, self.url, self.server = app, f"http://127.0.0.1:{self.port}", None

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                  request_handler=ClosingHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None


@pytest.fixture
def restartable_server(app):
    server = RestartableServer(app)
    server.start()
    yield server
    server.stop()


def test_a_lost_connection_shows_a_banner_and_the_screen_catches_up(
        page, restartable_server, catalog, waiter, manager, kitchen_key):
    make_ticket(waiter, catalog, ("FRIES", 1), name="Before")
    open_screen(page, restartable_server.url, kitchen_key)
    expect(card(page, "Before")).to_be_visible()
    banner = page.locator("#offline")
    expect(banner).to_be_hidden()

    restartable_server.stop()
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_contain_text("Connection lost")
    # Meanwhile the kitchen's work goes on elsewhere.
    _, (during,) = make_ticket(waiter, catalog, ("FRIES", 2), name="During")
    order_status.set_order_status(user=manager, order_id=during.id, status=S.PROCESSING)

    restartable_server.start()
    expect(banner).to_be_hidden(timeout=5000)
    expect(card(page, "During")).to_be_visible(timeout=3000)
    expect(card(page, "During").locator(".head .state")).to_have_text("Processing")
    assert page.evaluate("window.stillHere") is True


STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'")


def test_the_screen_works_under_a_csp_without_inline_scripts_or_styles(
        page, live_server, client, waiter, kitchen_key, csrf_on):
    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers,
                                                  "content-security-policy": STRICT_CSP})

    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    open_screen(page, live_server.url, kitchen_key)
    # Playwright does not route a redirect's target, so the policy comes in on a fresh load.
    page.route(f"{live_server.url}/**", with_csp)
    page.reload()
    expect(page.locator("[data-board]")).to_be_visible()
    new_ticket(client, waiter, "Table 8", ("FRIES", 1))
    expect(card(page, "Table 8")).to_be_visible(timeout=2000)
    card(page, "Table 8").get_by_role("button", name="Bump").click()
    expect(card(page, "Table 8")).to_have_count(0)
    page.keyboard.press("r")
    expect(card(page, "Table 8")).to_be_visible()
    assert refused == []


def test_a_revoked_link_is_refused_on_screen(page, live_server, catalog, waiter, admin):
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen", name="Old")
    open_screen(page, live_server.url, secret)
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    expect(page.locator("#offline")).to_contain_text("not signed in any more", timeout=3000)
    page.reload()
    expect(page.locator("body")).to_contain_text("revoked")


# --- screenshots ---------------------------------------------------------------------------

@pytest.fixture
def busy_kitchen(app, catalog, waiter, manager):
    """A busy shift: fresh, ageing and late cards, notes, courses, every stage, and a void."""
    from app.services.products import create_product
    from app.services.tickets import update_ticket
    from tests.conftest import lines

    create_product(code="SOUP", name="Tomato soup", price=Decimal(5),
                   station_names=["Kitchen"], course=1)
    create_product(code="STEAK", name="Ribeye steak", price=Decimal(24),
                   station_names=["Kitchen", "Pass"], course=2)
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, version=stations.get_station("Kitchen").version,
                            settings={"warnAfterMinutes": "5", "lateAfterMinutes": "10"})
    plan = [("Table 12", [("SOUP", 2), ("STEAK", 2, "medium rare"), ("FRIES", 2)], 14),
            ("Table 3", [("BURGER", 1, "no onions"), ("FRIES", 1)], 7),
            ("Table 7", [("STEAK", 1, "well done"), ("SOUP", 1)], 6),
            ("Bar 2", [("FRIES", 3)], 3),
            ("Table 5", [("BURGER", 2), ("FRIES", 2, "extra salt")], 1),
            ("Terrace 1", [("SOUP", 4)], 0)]
    made = []
    for name, items, minutes_ago in plan:
        ticket, (order,) = make_ticket(waiter, catalog, *items, name=name)
        db.session.execute(text("UPDATE order_entries SET processed_at = :at "
                                "WHERE order_id = :id"),
                           {"at": utcnow() - timedelta(minutes=minutes_ago, seconds=20),
                            "id": order.id})
        db.session.execute(text("UPDATE orders SET created_at = :at WHERE id = :id"),
                           {"at": utcnow() - timedelta(minutes=minutes_ago, seconds=40),
                            "id": order.id})
        db.session.commit()
        made.append((ticket, order))
    order_status.set_item_status(user=manager, order_id=made[0][1].id, item_id=1, status=S.READY)
    order_status.set_cell_status(user=manager, order_id=made[0][1].id, item_id=2,
                                 station_name="Kitchen", status=S.PROCESSING)
    order_status.set_entry_status(user=manager, order_id=made[1][1].id, station_name="Kitchen",
                                  status=S.PROCESSING)
    order_status.set_order_status(user=manager, order_id=made[2][1].id, status=S.READY)
    update_ticket(user=waiter, device=catalog, ticket_id=made[3][0].id, name="Bar 2",
                  lines=lines(("FRIES", 1)))
    return made


def test_screenshot_of_a_busy_station(page, live_server, busy_kitchen, kitchen_key, screenshot):
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_screen(page, live_server.url, kitchen_key)
    cards = page.locator("article.card")
    expect(cards).to_have_count(7)
    expect(cards.nth(0)).to_have_class(re.compile(r"\bage-late\b"))
    expect(card(page, "Table 3")).to_have_class(re.compile(r"\bage-warn\b"))
    expect(card(page, "Terrace 1")).to_have_class(re.compile(r"\bage-fresh\b"))
    expect(page.locator("article.card.void")).to_have_count(1)
    # Touch targets: every button on screen (this page of cards) at least 48 px high.
    heights = page.eval_on_selector_all("button", "els => els.filter(e => e.getClientRects()"
                                        ".length).map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 48, heights
    page.wait_for_timeout(300)
    screenshot(page, "kiosk-station-1080p")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(300)
    screenshot(page, "kiosk-station-tablet")


def test_screenshot_of_the_expo(page, live_server, busy_kitchen, admin, screenshot):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Expo")
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_screen(page, live_server.url, secret, "expo")
    ready = page.locator("article.card.is-ready")
    expect(ready).to_have_count(1)
    expect(ready).to_contain_text("Table 7")
    page.wait_for_timeout(300)
    screenshot(page, "kiosk-expo-1080p")
    ready.get_by_role("button", name="Complete").click()
    expect(page.locator("article.card", has_text="Table 7")).to_have_count(0)
