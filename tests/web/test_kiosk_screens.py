"""A station screen over HTTP: the pager the screen's script fills, the keys in its legend, the
compact class from the station's setting, void marks, and the setting in the station form."""
import re

import pytest

from app.services import stations
from app.services.tickets import update_ticket
from tests.conftest import lines, make_ticket
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def table4(catalog, waiter):
    t4, (original,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1), name="Table 4")
    _, (other,) = make_ticket(waiter, catalog, ("FRIES", 2), name="Table 5")
    return t4, original, other


def set_settings(settings: dict) -> None:
    kitchen = stations.get_station("Kitchen")
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings=settings, version=kitchen.version)


def board_tag(html: str) -> str:
    return re.search(r'<section id="kiosk-board"[^>]*>', html).group(0)


def test_the_page_and_its_fragment_carry_the_pager_and_the_keys(client, table4, manager):
    sign_in(client, manager)
    page = client.get("/kiosk/Kitchen").get_data(as_text=True)
    fragment = client.get("/kiosk/Kitchen?version=0", headers=HTMX).get_data(as_text=True)
    for html in (page, fragment):
        pager = html[html.index('<nav id="kiosk-pager"'):]
        pager = pager[:pager.index("</nav>")]
        # Hidden until the script pages the cards; without it every card is on the one page.
        assert "data-pager hidden" in pager and 'data-page-step="1"' in pager
        assert "<kbd>PgDn</kbd>" in pager and "<kbd>PgUp</kbd>" in pager
        assert "data-cards" in html and "compact" not in board_tag(html)
    legend = page[page.index('<footer class="keys"'):]
    assert "<kbd>PgUp</kbd><kbd>PgDn</kbd> Pages" in legend
    assert "<kbd>1</kbd> <kbd>4</kbd>: card 14" in legend
    assert "<kbd>A</kbd> All day" in legend and "data-all-day-toggle" in page


def test_a_compact_station_draws_a_compact_board(client, table4, manager):
    set_settings({"compact": "on"})
    sign_in(client, manager)
    assert "compact" in board_tag(client.get("/kiosk/Kitchen").get_data(as_text=True))
    fragment = client.get("/kiosk/Kitchen?version=0", headers=HTMX).get_data(as_text=True)
    assert re.search(r'class="board compact"', board_tag(fragment))


def test_a_void_card_comes_right_after_its_original_and_both_say_so(
        client, table4, catalog, waiter, manager):
    t4, original, other = table4
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t4.id, name="Table 4",
                               lines=lines(("BURGER", 1), ("FRIES", 1)))
    sign_in(client, manager)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert re.findall(r'data-card="([^"]+)"', html) == [original.id, void.id, other.id]
    first = html[html.index(f'id="card-{original.id}"'):]
    assert f'<p class="voided-by">Voided by #{void.number}</p>' in first[:first.index("</article>")]
    card = html[html.index(f'id="card-{void.id}"'):]
    assert f'<p class="void-link">Voids #{original.number}</p>' in card[:card.index("</article>")]


def test_the_station_form_names_the_screen_settings_and_refuses_a_bad_threshold(
        client, catalog, admin):
    sign_in(client, admin)
    form = client.get("/admin/stations/Kitchen").get_data(as_text=True)
    assert 'name="warnAfterMinutes"' in form and 'name="compact"' in form
    version = stations.get_station("Kitchen").version
    refused = client.post("/admin/stations/Kitchen", data={
        "name": "Kitchen", "type": "display", "is_active": "y", "address": "",
        "lateAfterMinutes": "later", "_v": version})
    assert refused.status_code == 422
    assert "lateAfterMinutes must be a whole number" in refused.get_data(as_text=True)
    saved = client.post("/admin/stations/Kitchen", data={
        "name": "Kitchen", "type": "display", "is_active": "y", "address": "",
        "compact": "y", "warnAfterMinutes": "4", "_v": version})
    assert saved.status_code in (302, 303)
    assert stations.get_station("Kitchen").settings == {"compact": "on", "warnAfterMinutes": "4"}
