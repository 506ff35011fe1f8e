"""Rush and order type on the dashboard (the order page's control, the list's filters), the
station edit form's order type boxes, and the kiosk cards."""
import re

import pytest

from app.services import order_rush, stations
from app.services.tickets import create_ticket
from tests.conftest import lines, make_ticket, make_user
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def floor(catalog, waiter):
    """Table 1 (dine-in), Window (takeout), Van (delivery), in that order."""
    _, (dine_in,) = make_ticket(waiter, catalog, ("BURGER", 1), name="Table 1")
    _, (takeout,) = create_ticket(user=waiter, device=catalog, name="Window",
                                  lines=lines(("BURGER", 1)), order_type="takeout")
    _, (delivery,) = create_ticket(user=waiter, device=catalog, name="Van",
                                   lines=lines(("FRIES", 1)), order_type="delivery")
    return dine_in, takeout, delivery


def numbers_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="number"[^>]*>#?(\d+)<', html)]


def test_the_order_page_marks_and_clears_rush(client, floor, manager):
    sign_in(client, manager)
    order = floor[0]
    version = order.version
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'name="isRush" value="true"' in page and "Mark rush" in page
    assert "<dt>Type</dt><dd>Dine in</dd>" in page

    response = client.post(f"/orders/{order.id}/rush", headers=HTMX,
                           data={"isRush": "true", "_v": version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="order-detail"')
    assert '<span class="badge rush">RUSH</span>' in html and "Clear rush" in html
    assert "Marked RUSH" in html  # the history says so, and who: the manager
    assert re.search(r"Marked RUSH.*?manager", html, re.DOTALL)

    # A page drawn before that change is stale: nothing changes, and it says so.
    stale = client.post(f"/orders/{order.id}/rush", headers=HTMX,
                        data={"isRush": "false", "_v": version})
    assert stale.status_code == 409 and "Someone else changed" in stale.get_data(as_text=True)
    # Without htmx: post, redirect, get.
    response = client.post(f"/orders/{order.id}/rush",
                           data={"isRush": "false", "_v": version + 1})
    assert response.status_code == 303
    assert "Mark rush" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert client.post(f"/orders/{order.id}/rush", data={"isRush": "soon"}).status_code == 422


def test_rush_needs_order_update(client, floor):
    sign_in(client, make_user("reader", ["orderRead"]))
    order = floor[0]
    assert "Mark rush" not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert client.post(f"/orders/{order.id}/rush", data={"isRush": "true"}).status_code == 403


def test_the_list_filters_by_type_and_rush(client, floor, manager):
    dine_in, takeout, delivery = floor
    order_rush.set_order_rush(user=manager, order_id=delivery.id, is_rush=True)
    sign_in(client, manager)
    html = client.get("/orders").get_data(as_text=True)
    assert numbers_in(html) == [delivery.number, takeout.number, dine_in.number]
    assert html.count('<span class="badge rush">RUSH</span>') == 1
    assert '<option value="takeout" >Takeout</option>' in html

    fragment = client.get("/orders?type=takeout", headers=HTMX).get_data(as_text=True)
    assert numbers_in(fragment) == [takeout.number]
    assert numbers_in(client.get("/orders?rush=yes").get_data(as_text=True)) == [
        delivery.number]
    assert numbers_in(client.get("/orders?rush=no&type=dineIn").get_data(as_text=True)) == [
        dine_in.number]
    refused = client.get("/orders?type=pickup")
    assert refused.status_code == 422 and "Type: choose one of" in refused.get_data(as_text=True)


def test_the_station_form_sets_the_order_types_it_takes(client, catalog, admin):
    sign_in(client, admin)
    form = client.get("/admin/stations/Pass").get_data(as_text=True)
    assert form.count('name="order_types"') == 4 and form.count("checked") >= 4
    response = client.post("/admin/stations/Pass", data={
        "name": "Pass", "type": "display", "is_active": "y",
        "order_types": ["takeout", "delivery"]})
    assert response.status_code == 303
    assert stations.get_station("Pass").settings == {"orderTypes": "takeout,delivery"}
    form = client.get("/admin/stations/Pass").get_data(as_text=True)
    ticked = [re.search(r'value="(\w+)"', box).group(1) for box in
              re.findall(r'<input[^>]*name="order_types"[^>]*>', form) if " checked" in box]
    assert ticked == ["takeout", "delivery"]
    # Every box ticked is the default again: no setting kept.
    client.post("/admin/stations/Pass", data={
        "name": "Pass", "type": "display", "is_active": "y",
        "order_types": ["dineIn", "takeout", "delivery", "web"]})
    assert stations.get_station("Pass").settings == {}


def test_kiosk_cards_show_rush_first_and_the_type(client, floor, manager):
    dine_in, takeout, _ = floor
    order_rush.set_order_rush(user=manager, order_id=takeout.id, is_rush=True)
    sign_in(client, manager)
    for screen in ("/kiosk/Kitchen", "/kiosk/expo"):
        html = client.get(screen).get_data(as_text=True)
        assert numbers_in(html)[:2] == [takeout.number, dine_in.number], screen
        card = html[html.index(f'id="card-{takeout.id}"'):]
        card = card[:card.index("</article>")]
        assert 'class="rush-banner">RUSH<' in card and ">Takeout<" in card
        assert "rush" in re.search(r'class="card ([^"]*)"', card).group(1).split()
        assert 'class="rush-banner"' not in html[html.index(f'id="card-{dine_in.id}"'):]
