"""Each card of a station board drawn once per state of its order (app/caching/kiosk_cards.py):
a board of kept cards is the board drawn afresh, a change redraws just the card it touched, and
what moves without the order changing (place, age, CSRF token) is filled in at each drawing."""
import re
from datetime import datetime, timedelta

import pytest

from app.caching import kiosk_cards
from app.core import status as S
from app.models import utcnow
from app.services import kiosk, order_status
from tests.conftest import make_ticket
from tests.web.helpers import HTMX, sign_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def kitchen(catalog, waiter):
    made = []
    for name, items in (("Table 1", (("BURGER", 1),)), ("Table 2", (("FRIES", 2),)),
                        ("Table 3", (("BURGER", 2), ("FRIES", 1)))):
        _, (order,) = make_ticket(waiter, catalog, *items, name=name)
        made.append(order)
    return made


@pytest.fixture
def clock(monkeypatch):
    """The board's clock, fixed, and moved by hand: ages do not tick between two drawings."""
    now = [utcnow()]
    monkeypatch.setattr(kiosk, "utcnow", lambda: now[0])
    return now


@pytest.fixture
def draws(monkeypatch):
    """The order ids of the cards each request had to draw."""
    drawn = []
    real = kiosk_cards._draw
    monkeypatch.setattr(kiosk_cards, "_draw",
                        lambda card, *args: drawn.append(card.order.id) or real(card, *args))
    return drawn


def board(client, station="Kitchen") -> str:
    response = client.get(f"/kiosk/{station}?version=0", headers=HTMX)  # a stale version: drawn
    assert response.status_code == 200
    return response.get_data(as_text=True)


def same(html: str) -> str:
    """The board without its CSRF tokens, which are signed with the second they were made."""
    return TOKEN.sub("", html)


def card_html(html: str, order) -> str:
    return re.search(rf'<article id="card-{order.id}".*?</article>', html, re.DOTALL).group(0)


def test_a_board_of_cached_cards_is_the_board_drawn_afresh(app, client, kitchen, manager, clock,
                                                         draws):
    sign_in(client, manager)
    first = board(client)
    assert sorted(draws) == sorted(o.id for o in kitchen)
    again = board(client)
    assert len(draws) == 3  # nothing drawn the second time
    assert same(again) == same(first)
    app.extensions.pop("kiosk_cards")
    assert same(board(client)) == same(first)
    assert "<!--card:" not in first  # every mark filled in


def test_a_change_redraws_only_the_card_it_touched(client, kitchen, manager, clock, draws):
    sign_in(client, manager)
    board(client)
    order_status.set_order_status(user=manager, order_id=kitchen[1].id, status=S.PROCESSING)
    html = board(client)
    assert draws[3:] == [kitchen[1].id]
    assert 'class="state status-processing">Processing' in card_html(html, kitchen[1])
    assert 'class="state status-new">New' in card_html(html, kitchen[0])


def test_screens_of_two_stations_keep_their_own_cards_of_one_order(client, kitchen, manager,
                                                                    clock, draws):
    # A burger goes to the Kitchen and to the Pass: one order, a card on each screen.
    sign_in(client, manager)
    kitchen_html, pass_html = board(client), board(client, "Pass")
    assert kitchen[0].id in re.findall(r'data-card="([^"]+)"', pass_html)
    assert draws.count(kitchen[0].id) == 2
    assert same(board(client)) == same(kitchen_html)
    assert same(board(client, "Pass")) == same(pass_html)
    assert draws.count(kitchen[0].id) == 2  # neither pushed the other's card out
    assert '/kiosk/Pass/orders/' in card_html(pass_html, kitchen[0])
    assert '/kiosk/Pass/orders/' not in card_html(kitchen_html, kitchen[0])


def test_place_age_and_token_are_filled_in_at_each_drawing(app, client, kitchen, manager,
                                                          clock, draws):
    sign_in(client, manager)
    html = board(client)
    index = r'<span class="index" aria-hidden="true">(\d)</span>'
    card = card_html(html, kitchen[1])
    assert re.search(index, card).group(1) == "2"
    since = datetime.fromisoformat(re.search(r'data-since="([^"]+)Z"', card).group(1))
    waited = int((clock[0] - since).total_seconds())  # moments: the order was just made
    assert 0 <= waited < 50
    assert f"data-age>{kiosk_cards.age_text(waited)}<" in card and "age-fresh" in card
    token = TOKEN.search(html).group(1)
    assert set(TOKEN.findall(html)) == {token}

    # The first card bumped, an hour later: the second moves up and has aged, undrawn.
    assert client.post(f"/kiosk/Kitchen/orders/{kitchen[0].id}/bump",
                       headers=HTMX).status_code == 200
    clock[0] += timedelta(minutes=61, seconds=5)
    html = board(client)
    assert kitchen[1].id not in draws[3:]
    card = card_html(html, kitchen[1])
    assert re.search(index, card).group(1) == "1"
    assert f"data-age>{kiosk_cards.age_text(waited + 3665)}<" in card and "age-late" in card
    assert "data-age>1h01<" in card

    # Another session gets its own token in the same kept cards.
    other = app.test_client()
    sign_in(other, manager)
    theirs = board(other)
    assert kitchen[1].id not in draws[3:]
    assert set(TOKEN.findall(theirs)) == {TOKEN.search(theirs).group(1)} != {token}


def test_ages_read_as_the_screen_ticks_them():
    # As static/js/kiosk.js formats them, so a card's age does not jump when the screen ticks.
    assert [kiosk_cards.age_text(s) for s in (-5, 0, 59, 61, 3599, 3600, 3725)] == [
        "0:00", "0:00", "0:59", "1:01", "59:59", "1h00", "1h02"]
