"""Each row of the dashboard list drawn once per state of its order (app/caching/list_rows.py):
a page drawn from kept rows is the page drawn afresh, and a change redraws just what it touched."""
import itertools
import re

import pytest

from app.core import rights as R
from app.services import order_status, orders, stations
from tests.conftest import make_ticket, make_user
from tests.web.helpers import sign_in

TOKEN = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"')
_addresses = itertools.count()


@pytest.fixture
def floor(catalog, waiter):
    made = []
    for i, items in enumerate([(("BURGER", 2), ("COLA", 1)), (("FRIES", 1),), (("COLA", 3),)]):
        _, (order,) = make_ticket(waiter, catalog, *items, name=f"Table {i + 1}")
        made.append(order)
    return made


@pytest.fixture
def loads(monkeypatch):
    """The ids of the orders each drawing had to load."""
    loaded = []
    real = orders.load_orders
    monkeypatch.setattr(orders, "load_orders", lambda ids: loaded.append(sorted(ids)) or real(ids))
    return loaded


def page(client, path="/orders?again=1") -> str:
    # Each call a new address, so the page is drawn by the view (app/web/kept_pages.py keeps
    # whole pages per address).
    address = f"{path}&n={next(_addresses)}"
    return TOKEN.sub("", client.get(address).get_data(as_text=True))


def test_a_page_of_cached_rows_is_the_page_drawn_afresh(app, client, floor, manager, loads):
    sign_in(client, manager)
    first = page(client)
    assert loads == [sorted(o.id for o in floor)]
    again = page(client)
    assert loads == [sorted(o.id for o in floor)]  # nothing loaded the second time
    assert again == first
    app.extensions.pop("order_rows")
    assert page(client) == first


def test_a_change_redraws_only_the_rows_it_touched(client, floor, manager, loads):
    sign_in(client, manager)
    page(client)
    order_status.set_order_status(user=manager, order_id=floor[1].id, status="Completed")
    html = page(client)
    assert loads[-1] == [floor[1].id]
    row = re.search(rf'<tr id="order-{floor[1].id}".*?</tr>', html, re.DOTALL).group(0)
    assert "status-completed" in row
    stations.update_station("Bar", name="Drinks", type="display", is_active=True,
                            address=None, settings=None)
    html = page(client)
    assert loads[-1] == sorted(o.id for o in floor)  # every row shows its stations
    assert "Drinks" in html and ">Bar<" not in html


def test_rows_with_and_without_checkboxes_are_cached_apart(app, client, floor, manager, loads):
    sign_in(client, manager)
    assert f'value="{floor[0].id}" form="batch"' in page(client)
    reader = app.test_client()
    sign_in(reader, make_user("reader", [R.ORDER_READ]))
    html = page(reader)
    assert str(floor[0].number) in html and 'form="batch"' not in html
    # Both kinds held at once: drawn alternately, neither pushes the other out.
    assert f'value="{floor[0].id}" form="batch"' in page(client)
    assert 'form="batch"' not in page(reader)
    assert len(loads) == 2


def test_a_text_search_draws_its_rows(client, floor, manager):
    sign_in(client, manager)
    page(client)
    html = page(client, "/orders?q=Table+2")
    assert f'id="order-{floor[1].id}"' in html
    assert f'id="order-{floor[0].id}"' not in html
