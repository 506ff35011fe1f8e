"""The ready board as a guest sees it on a 1920x1080 television, in Chromium: opened by a board
link, a number under Preparing moves to Ready with its highlight and the chime, under the CSP;
revoking the link takes the numbers off; screenshots of a quiet and a busy board."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.core import status as S
from app.extensions import db
from app.models import DEFAULT_BOARD, Counter, utcnow
from app.models.orders import Order
from app.services import boards, kiosk_links, order_status
from app.services.boards import BoardFields
from tests.browser.test_dashboard import open_menu, sign_in
from tests.conftest import make_ticket

pytestmark = pytest.mark.browser
TV = {"width": 1920, "height": 1080}


def open_board(page, url, secret, path="/board"):
    page.set_viewport_size(TV)
    page.goto(f"{url}{path}?key={secret}")
    expect(page).to_have_url(re.compile(rf"{path}$"))  # the key left the address bar
    expect(page.locator("[data-board]")).to_be_visible()
    page.evaluate("window.stillHere = true")  # survives only if the page never reloads


def column(page, key):
    return page.locator(f'[data-column="{key}"] [data-number]')


def test_a_number_moves_from_preparing_to_ready_with_its_highlight(
        page, live_server, catalog, waiter, manager, admin, screenshot):
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    boards.update_board(user=admin, name=DEFAULT_BOARD, fields=BoardFields(
        title="Orders", show_first_name=True, chime=True, ready_minutes=10))
    _, (anna,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Anna Smith")
    _, (other,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 3")
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None,
                                              board_name=DEFAULT_BOARD, name="Counter TV")
    open_board(page, live_server.url, secret)
    preparing = page.locator(f'[data-column="preparing"] [data-number="{anna.number}"]')
    expect(preparing).to_contain_text(str(anna.number))
    expect(preparing.locator(".name")).to_have_text("Anna")
    expect(column(page, "ready")).to_have_count(0)
    expect(page.locator(".ready .empty")).to_have_text("Nothing ready yet")

    order_status.set_order_status(user=manager, order_id=anna.id, status=S.READY)
    ready = page.locator(f'[data-column="ready"] [data-number="{anna.number}"]')
    expect(ready).to_be_visible(timeout=2000)  # within 2 seconds, no reload
    expect(ready).to_have_class(re.compile(r"\bjust-ready\b"))
    expect(preparing).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-chimes", "1")
    assert page.evaluate("window.stillHere") is True
    page.wait_for_timeout(3200)  # the highlight's pulse settles before the picture
    path = screenshot(page, "ready-board-1080p")
    assert path.exists()

    # The highlight is short: it goes by itself (the board's seconds, counted from the server's
    # time of the change), with no change made meanwhile.
    expect(ready).not_to_have_class(re.compile(r"\bjust-ready\b"), timeout=15000)
    expect(page.locator("body")).to_have_attribute("data-chimes", "1")

    # Completed: the number leaves the board.
    order_status.set_order_status(user=manager, order_id=anna.id, status=S.COMPLETED)
    expect(ready).to_have_count(0, timeout=2000)
    expect(column(page, "preparing")).to_have_count(1)
    assert other.number == int(column(page, "preparing").first.get_attribute("data-number"))
    assert refused == []


def test_revoking_the_link_takes_the_board_down(page, live_server, catalog, waiter, admin):
    make_ticket(waiter, catalog, ("FRIES", 1))
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None,
                                                 board_name=DEFAULT_BOARD, name="Door TV")
    open_board(page, live_server.url, secret)
    expect(column(page, "preparing")).to_have_count(1)
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed", timeout=3000)
    expect(page.locator("main")).to_contain_text("revoked")
    expect(page.locator("[data-number]")).to_have_count(0)


def test_screenshot_of_a_busy_board(page, live_server, catalog, waiter, manager, admin,
                                    screenshot):
    """A lunch rush: five-digit numbers, twenty in preparation, ten ready of which one just
    turned Ready; everything fits the screen."""
    db.session.execute(update(Counter).where(Counter.name == "order_number")
                       .values(value=10230))
    db.session.commit()
    boards.create_board(user=admin, name="pickup", fields=BoardFields(
        title="Pick-up", show_first_name=True, ready_minutes=15))
    guests = ["Anna", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hugo", "Ines",
              "Jonas", "Kira", "Leo", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sami",
              "Tess", "Umar", "Vera", "Wim", "Xena", "Yusuf", "Zoe", "Amir", "Bea", "Carl",
              "Dora"]
    made = [make_ticket(waiter, catalog, ("FRIES", 1), name=f"{guest} K.")[1][0]
            for guest in guests]
    for minutes, order in enumerate(made[:10]):
        order_status.set_order_status(user=manager, order_id=order.id, status=S.READY)
        if minutes:  # all but the first turned Ready a while ago
            db.session.execute(update(Order).where(Order.id == order.id).values(
                ready_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None,
                                              board_name="pickup", name="Pick-up TV")
    open_board(page, live_server.url, secret, "/board/pickup")
    expect(column(page, "preparing")).to_have_count(20)
    expect(column(page, "ready")).to_have_count(10)
    expect(page.locator(".just-ready")).to_have_count(1)
    expect(page.locator(".just-ready .digits")).to_have_text(str(made[0].number))
    # Everything fits the screen: no number is cut off at its bottom edge or its sides.
    assert page.evaluate("document.documentElement.scrollHeight") <= TV["height"]
    for key in ("preparing", "ready"):
        last = column(page, key).last.bounding_box()
        assert last["y"] + last["height"] <= TV["height"]
        assert page.evaluate(f"""Array.from(document.querySelectorAll(
            '[data-column="{key}"] .digits')).every(d => d.scrollWidth <= d.parentElement.clientWidth)""")
    page.wait_for_timeout(3200)  # the highlight's pulse settles before the picture
    screenshot(page, "ready-board-busy-1080p")


@pytest.fixture
def csrf_on(app):
    """The real thing: the admin's forms must carry the CSRF token from the page."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_an_admin_makes_a_board_and_its_link_and_a_television_opens_it(
        page, browser, live_server, catalog, waiter, admin, csrf_on, screenshot):
    _, (takeout,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 1")
    sign_in(page, live_server, "admin")
    open_menu(page, "Admin")
    page.get_by_role("link", name="Ready boards").click()
    page.get_by_role("textbox", name=re.compile("^Name")).fill("pickup")
    page.get_by_role("textbox", name=re.compile("^Title")).fill("Pick-up")
    page.get_by_label("Kitchen").check()
    page.get_by_label("Minutes a Ready number stays").fill("5")
    page.get_by_role("button", name="Add board").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board Pick-up")
    page.get_by_label("Name (where the screen is)").fill("TV by the door")
    page.get_by_role("button", name="Make a link").click()
    url = page.locator("#new-board-link").inner_text()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/board/pickup\?key=kio_[\w-]+", url)
    screenshot(page, "ready-board-admin")

    television = browser.new_context(viewport=TV).new_page()
    television.goto(url)
    expect(television).to_have_url(f"{live_server.url}/board/pickup")
    expect(television.locator(f'[data-number="{takeout.number}"]')).to_be_visible()
    television.context.close()
