"""Station screens that never hide an order, in Chromium at a wall screen's 1920x1080 and a
tablet's 1024x768: pages of the cards that fit with a '+N more' marker, keys to turn them and
to select cards past 9, the compact mode, long names wrapped, and a void order's card beside the
card it cancels."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from app.extensions import db
from app.models import utcnow
from app.services import kiosk, kiosk_links, stations
from app.services.products import create_product
from app.services.tickets import update_ticket
from tests.browser.test_kiosk import card, open_screen
from tests.conftest import lines, make_ticket

pytestmark = pytest.mark.browser

SIZES = {"1080p": (1920, 1080), "tablet": (1024, 768)}
# A page's cards as the screen shows them: (number, whole card inside the cards' area).
ON_SCREEN = """() => {
  const area = document.querySelector('[data-cards]').getBoundingClientRect();
  return Array.from(document.querySelectorAll('article.card'))
    .filter(card => card.getClientRects().length)
    .map(card => {
      const box = card.getBoundingClientRect();
      return [Number(card.querySelector('.number').textContent.slice(1)),
              box.top >= area.top && box.left >= area.left &&
              box.bottom <= area.bottom + 1 && box.right <= area.right + 1];
    });
}"""


@pytest.fixture
def kitchen_key(admin, catalog):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    return secret


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def on_screen(page) -> list[int]:
    """The numbers of the cards on the page shown, each checked to be wholly in view."""
    shown = page.evaluate(ON_SCREEN)
    assert shown and all(inside for _, inside in shown), shown
    return [number for number, _ in shown]


def set_compact(value: str | None) -> None:
    kitchen = stations.get_station("Kitchen")
    settings = {"compact": value} if value is not None else {}
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings=settings, version=kitchen.version)


@pytest.fixture
def thirty_orders(app, catalog, waiter):
    """A rush hour: 30 open orders at the Kitchen, of one to four lines, some with notes, the
    oldest first by a minute each."""
    made = []
    mixes = [[("FRIES", 1)], [("BURGER", 2), ("FRIES", 2, "extra salt")],
             [("BURGER", 1, "no onions"), ("FRIES", 1), ("BREAD", 1)],
             [("FRIES", 3)], [("BURGER", 3), ("FRIES", 1, "no salt")]]
    for i in range(30):
        _, (order,) = make_ticket(waiter, catalog, *mixes[i % len(mixes)], name=f"Table {i + 1}")
        db.session.execute(text("UPDATE order_entries SET processed_at = :at "
                                "WHERE order_id = :id"),
                           {"at": utcnow() - timedelta(minutes=40 - i), "id": order.id})
        made.append(order)
    db.session.commit()
    return made


@pytest.mark.parametrize("size", SIZES)
def test_every_one_of_30_orders_can_be_paged_into_view(page, live_server, thirty_orders,
                                                        kitchen_key, screenshot, size):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size])))
    open_screen(page, live_server.url, kitchen_key)
    expect(page.locator("article.card")).to_have_count(30)
    everyone = sorted(order.number for order in thirty_orders)
    first = on_screen(page)
    assert 0 < len(first) < 30
    # The marker says how many more wait, and on which side.
    nxt, prev = page.locator(".pager .page-next"), page.locator(".pager .page-prev")
    expect(nxt).to_be_visible()
    expect(nxt).to_contain_text(f"+{30 - len(first)} more")
    expect(nxt).to_contain_text("next")
    expect(prev).to_be_hidden()
    expect(page.locator(".pager .page-of")).to_contain_text(f"cards 1–{len(first)} of 30")
    page.wait_for_timeout(300)
    screenshot(page, f"kiosk-station-30-orders-{size}")

    seen, shown, turns = list(first), first, 1
    while len(seen) < 30 and turns < 30:
        page.keyboard.press("PageDown")
        turns += 1
        expect(page.locator("[data-board]")).to_have_attribute("data-page", str(turns))
        shown = on_screen(page)
        assert not set(shown) & set(seen)  # each card is on one page only
        seen += shown
    assert sorted(seen) == everyone
    assert seen == [order.number for order in thirty_orders]  # oldest first, page after page
    expect(nxt).to_be_hidden()
    expect(prev).to_contain_text(f"+{30 - len(shown)} more")
    expect(prev).to_contain_text("before")
    # Back with PageUp, and forward by touch too.
    page.keyboard.press("PageUp")
    expect(page.locator("[data-board]")).to_have_attribute("data-page", str(turns - 1))
    nxt.click()
    expect(page.locator("[data-board]")).to_have_attribute("data-page", str(turns))
    assert page.evaluate("window.stillHere") is True


def test_arrows_run_on_to_the_next_page_and_two_digits_select_a_card_past_9(
        page, live_server, thirty_orders, kitchen_key):
    page.set_viewport_size({"width": 1024, "height": 768})
    open_screen(page, live_server.url, kitchen_key)
    cards = page.locator("article.card")
    first = on_screen(page)
    assert len(first) < 14
    for _ in first:
        page.keyboard.press("ArrowRight")
    # Past the page's last card: the next page, its first card selected.
    expect(page.locator("[data-board]")).to_have_attribute("data-page", "2")
    expect(cards.nth(len(first))).to_have_class(re.compile(r"\bselected\b"))

    page.keyboard.press("1")
    expect(cards.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    expect(cards.nth(0)).to_be_visible()
    page.keyboard.press("4")  # 1 then 4, quickly: card 14
    fourteenth = cards.nth(13)
    expect(fourteenth).to_have_class(re.compile(r"\bselected\b"))
    expect(fourteenth).to_be_visible()
    expect(fourteenth.locator(".index")).to_have_text("14")
    assert thirty_orders[13].number in on_screen(page)
    expect(page.locator("footer.keys")).to_contain_text("card 14")
    expect(page.locator("footer.keys")).to_contain_text("PgDn")


def test_the_page_is_kept_across_redraws_and_clamped_when_cards_leave(
        page, live_server, thirty_orders, kitchen_key, manager, catalog, waiter):
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_screen(page, live_server.url, kitchen_key)
    board = page.locator("[data-board]")
    first = on_screen(page)
    page.keyboard.press("PageDown")
    expect(board).to_have_attribute("data-page", "2")
    second = on_screen(page)
    # A change elsewhere redraws the board: the screen stays on its page.
    make_ticket(waiter, catalog, ("FRIES", 1), name="Late arrival")
    expect(page.locator("article.card")).to_have_count(31, timeout=3000)
    expect(board).to_have_attribute("data-page", "2")
    assert on_screen(page)[0] == second[0]
    # Every card past the first page leaves: the screen comes back to the one page left,
    # without a reload.
    for order in thirty_orders:
        if order.number not in first:
            kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    expect(page.locator("article.card")).to_have_count(len(first) + 1, timeout=3000)
    expect(board).to_have_attribute("data-page", "1")
    expect(page.locator(".pager .page-of")).to_contain_text("on screen")
    expect(page.locator(".pager .page-next")).to_be_hidden()
    assert page.evaluate("window.stillHere") is True


@pytest.mark.parametrize("size", SIZES)
def test_compact_mode_shows_more_cards_on_a_page(page, live_server, thirty_orders, kitchen_key,
                                                 screenshot, size):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size])))
    open_screen(page, live_server.url, kitchen_key)
    normal = on_screen(page)
    set_compact("on")
    page.reload()
    expect(page.locator("#kiosk-board")).to_have_class(re.compile(r"\bcompact\b"))
    compact = on_screen(page)
    assert len(compact) > len(normal), (normal, compact)
    # Still a kiosk: every button on screen a 48 px touch target.
    heights = page.eval_on_selector_all("button", "els => els.filter(e => e.getClientRects()"
                                        ".length).map(e => e.getBoundingClientRect().height)")
    assert min(heights) >= 48, heights
    page.wait_for_timeout(300)
    screenshot(page, f"kiosk-station-compact-{size}")


LONG_PRODUCT = ("Slow-roasted heritage pork belly with apple and calvados glaze, celeriac "
                "purée, charred hispi cabbage and crackling")
LONG_TICKET = "Terrace, table by the fountain — birthday party of Anna-Katharina Müller-Lüdenscheidt"


@pytest.mark.parametrize("size", SIZES)
def test_long_names_wrap_and_are_shown_whole(page, live_server, catalog, waiter, kitchen_key,
                                             size):
    create_product(code="PORK", name=LONG_PRODUCT, price=Decimal(28), station_names=["Kitchen"])
    make_ticket(waiter, catalog, ("PORK", 2), ("FRIES", 1), name=LONG_TICKET)
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size])))
    open_screen(page, live_server.url, kitchen_key)
    found = card(page, "Slow-roasted")
    name, who = found.locator(".line .name", has_text="Slow-roasted"), found.locator(".who")
    expect(name).to_have_text(LONG_PRODUCT)
    expect(who).to_have_text(LONG_TICKET)
    for element in (name, who):
        # Wrapped onto several lines, nothing clipped, and inside its card.
        fit = element.evaluate("""e => {
          const box = e.getBoundingClientRect(), card = e.closest('article').getBoundingClientRect();
          const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
          return {lines: box.height / line, clipped: e.scrollWidth > e.clientWidth + 1,
                  inside: box.left >= card.left && box.right <= card.right + 1};
        }""")
        assert fit["lines"] >= 1.9 and not fit["clipped"] and fit["inside"], fit
    if size == "tablet":  # the all-day panel is folded away: A opens it
        page.keyboard.press("a")
    expect(page.locator("#kiosk-all-day")).to_be_visible()
    expect(page.locator("#kiosk-all-day")).to_contain_text(LONG_PRODUCT)


def test_a_void_card_sits_beside_the_card_it_cancels(page, live_server, catalog, waiter,
                                                      kitchen_key, csrf_on):
    t4, (original,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1), name="Table 4")
    for n in range(5):
        make_ticket(waiter, catalog, ("FRIES", 1), name=f"Bar {n}")
    page.set_viewport_size({"width": 1024, "height": 768})
    open_screen(page, live_server.url, kitchen_key)
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t4.id, name="Table 4",
                               lines=lines(("BURGER", 1), ("FRIES", 1)))
    void_card = page.locator("article.card.void")
    expect(void_card).to_be_visible(timeout=3000)
    first = card(page, "Voided by")
    expect(void_card).to_contain_text(f"Voids #{original.number}")
    expect(first).to_contain_text(f"Voided by #{void.number}")
    expect(first.locator(".number")).to_have_text(f"#{original.number}")
    # Right after it, on the same page, though five orders came in between.
    assert page.evaluate("""() => {
      const v = document.querySelector('article.card.void');
      return v.previousElementSibling.querySelector('.voided-by') !== null;
    }""")
    assert {original.number, void.number} <= set(on_screen(page))
    void_card.get_by_role("button", name="Acknowledge").click()
    expect(void_card).to_have_count(0)
    expect(first).to_contain_text(f"Voided by #{void.number}")  # the original still says so
