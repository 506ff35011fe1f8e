"""How many SQL statements each route of the benchmark (bench/rows.py) runs, pinned (issue 8).

Each route is counted with few orders and with many more, and must run the same, pinned number
of statements both times: a loop that loads something per order or per item (an N+1) fails
here, and so does any extra round trip on these hot paths. When a change means to move a
number, the assertion prints the statements to review before re-pinning. (The API list's
invariance for every include is pinned in tests/api/test_orders_query.py; here are the
exact numbers of the benchmark's own queries.)
"""

import re
from contextlib import nullcontext

import pytest

from app.extensions import db
from app.kiosk_poll import LINK, POLL
from app.services import history, kiosk_links
from tests.conftest import bearer, counted_statements, make_ticket
from tests.views.helpers import HTMX, sign_in

# SQLite opens each transaction with a BEGIN of its own (app/database.py), which the engine
# sees as a statement; PostgreSQL's driver begins implicitly.
PINNED = {
    # route: statements, not counting those BEGINs
    # the token with its user; the change and stations' stamps (app/api/list_cache.py); the
    # page's keys (id, version, last save, the stations' stamp) with the total (from the
    # counters) in one statement; then the orders not cached in that state, with their cells,
    # items and entries (app/api/order_documents.py; with every order cached, those four go)
    "api-list": 7,
    # asked again with nothing changed: the answer was kept whole, and is answered before Flask
    # (app/api/kept_lists.py) after one statement: the token checked, with both stamps
    "api-list-kept": 1,
    # the same with the total first, to know which end the page is nearer
    "api-deep": 8,
    # as api-list, the total a count query rather than the counters
    "api-keyset": 7,
    # the token with its user, the stamps, and the count (a counter row, or one count query);
    # asked again with nothing changed, as api-list-kept
    "api-count-counters": 3,
    "api-count-filtered": 3,
    "api-count-station": 3,
    # user, both stamps, the page's keys with the total, the orders whose rows are not kept
    # (app/views/list_rows.py) with their entries, cells and items, the counters per status,
    # the stations of the filter form
    "dashboard-list": 9,
    # drawn again after a change elsewhere: every row of the page kept, those four go
    "dashboard-list-rows-kept": 5,
    # asked again with nothing changed, by the same session: answered before Flask
    # (app/views/kept_pages.py) after one statement: the user, with both stamps
    "dashboard-list-kept": 1,
    # user, change stamp, the order, its entries, cells, history and items, the stamp again
    "order-page": 8,
    # one statement before Flask (app.kiosk_poll): the change stamp and the live kiosk link
    "kiosk-idle": 1,
    # on PostgreSQL, none: both come from the process's change feed (app.change_feed)
    "kiosk-idle-feed": 0,
    # the kiosk link, the change stamp, the station, the count, the cards, their items with
    # this station's cells, the all-day counts
    "kiosk-refresh": 7,
    # the token with its user and device; the ticket with its items, device and user; the
    # products with their stations; then in one write transaction, in one round trip on
    # PostgreSQL: the ticket claimed (its name, version and save time) and its changed item;
    # the order number and the counters in one upsert; the order, its entries, items, cells
    # and history lines, one insert each; the change counter
    "ticket-update": 12,  # 27 when the ORM flushed the order piece by piece
}
CSRF_TOKEN = re.compile(rb'("X-CSRFToken": "|name="csrf_token" value=")[^"]+')
# bench/rows.py's filter and sort (status=Completed), on the status these orders have, so the
# page has rows and their details are loaded.
FILTER_SORT = "status=New&$sort=-createdDateUtc"


def statements_for(client, method: str, path: str, expect: int, **kwargs) -> list[str]:
    db.session.remove()  # nothing cached from earlier requests: count what a worker runs
    with counted_statements() as statements:
        response = client.open(path, method=method, **kwargs)
    assert response.status_code == expect, response.get_data(as_text=True)[:300]
    return [s for s in statements if not s.lstrip().upper().startswith("BEGIN")]


def assert_pinned(route: str, small: list[str], large: list[str]) -> None:
    listing = "\n".join(f"  {s.split(chr(10))[0][:110]}" for s in large)
    assert len(small) == len(large), f"{route}: grows with the data\n{listing}"
    assert len(large) == PINNED[route], f"{route}: {len(large)} statements\n{listing}"


@pytest.fixture
def add_orders(catalog, waiter):
    """Ticket orders of three items routed to Kitchen, Bar and Pass (BREAD by the device)."""
    made = []

    def add(count: int):
        for _ in range(count):
            _, (order,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1),
                                      ("COLA", 1), ("BREAD", 1), name=f"Table {len(made)}")
            made.append(order)
        return made
    return add


def _twice(add_orders, count):
    """`count(orders)` with 3 orders and then with 25."""
    small = count(add_orders(3))
    large = count(add_orders(22))
    return small, large


@pytest.mark.parametrize("route, query", [
    ("api-list", f"$take=50&{FILTER_SORT}"),
    ("api-deep", f"$take=50&{FILTER_SORT}&$skip=2"),
    ("api-keyset", f"$take=50&{FILTER_SORT}&createdDateUtc=lt:2999-01-01T00:00:00Z"),
    ("api-count-counters", "$count=true&status=New"),
    ("api-count-filtered", "$count=true&isVoid=false"),
    ("api-count-station", "$count=true&endpointName=Kitchen"),
])
def test_api_reads(client, add_orders, manager, route, query):
    headers = bearer(manager)
    small, large = _twice(add_orders, lambda made: statements_for(
        client, "GET", "/api/orders?" + query, 200, headers=headers))
    assert_pinned(route, small, large)


def _asked_again(app, client, add_orders, monkeypatch, path, **kwargs):
    """The statements of a request asked a second time with nothing changed, with few and with
    many orders. Statements run before Flask on connections of their own, which the engine's
    events do not see: they are counted where they are run."""
    poll = app.wsgi_app
    read = poll.read
    before_flask = []
    monkeypatch.setattr(poll, "read", lambda statement, params: (
        before_flask.append(statement()) or read(statement, params)))

    def page():
        # A page's CSRF token is signed afresh at each answer, with the time in seconds.
        return CSRF_TOKEN.sub(rb"\1", client.get(path, **kwargs).get_data())

    def again(made):
        first = page()
        before_flask.clear()
        statements = statements_for(client, "GET", path, 200, **kwargs)
        assert page() == first
        return statements + before_flask[:1]
    return _twice(add_orders, again)


def test_api_list_asked_again(app, client, add_orders, manager, monkeypatch):
    small, large = _asked_again(app, client, add_orders, monkeypatch,
                                f"/api/orders?$take=50&{FILTER_SORT}", headers=bearer(manager))
    assert_pinned("api-list-kept", small, large)


def test_dashboard_list_page(client, add_orders, manager):
    sign_in(client, manager)
    small, large = _twice(add_orders, lambda made: statements_for(client, "GET", "/orders", 200))
    assert_pinned("dashboard-list", small, large)


def test_dashboard_list_with_its_rows_kept(client, add_orders, manager):
    sign_in(client, manager)

    def redrawn(made):
        client.get("/orders")
        # Another address for the same page: not a kept page (app/views/kept_pages.py), so
        # drawn by the view, but from kept rows.
        return statements_for(client, "GET", "/orders?again=1", 200)
    small, large = _twice(add_orders, redrawn)
    assert_pinned("dashboard-list-rows-kept", small, large)


def test_dashboard_list_asked_again(app, client, add_orders, manager, monkeypatch):
    sign_in(client, manager)
    client.get("/orders")  # completes the session (its CSRF secret): that page is not kept
    small, large = _asked_again(app, client, add_orders, monkeypatch, "/orders")
    assert_pinned("dashboard-list-kept", small, large)


def test_order_page(client, add_orders, manager):
    sign_in(client, manager)
    small, large = _twice(add_orders, lambda made: statements_for(
        client, "GET", f"/orders/{made[-1].id}", 200))
    assert_pinned("order-page", small, large)


@pytest.fixture
def kitchen_screen(client, admin, catalog):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    assert client.get(f"/kiosk/Kitchen?key={secret}").status_code == 303
    return client


@pytest.mark.parametrize("feed_on", [False, True])
def test_kiosk_idle_poll(app, kitchen_screen, add_orders, monkeypatch, feed_on):
    from tests.test_change_feed import running_feed, wait_for

    # The poll's own statements run on connections of its own, which the engine's events do
    # not see: they are counted where they are run.
    poll = app.wsgi_app
    polled = []
    fetch = poll._fetch
    monkeypatch.setattr(poll, "_fetch", lambda link_id, link_only=False: (
        polled.append(LINK if link_only else POLL) or fetch(link_id, link_only)))

    def count(made):
        db.session.commit()  # the current stamp, not an earlier snapshot's
        stamp = history.change_stamp()
        url = f"/kiosk/Kitchen?stamp={stamp}"
        if poll.feed is not None:
            wait_for(lambda: poll.feed.healthy and poll.feed.stamp == stamp)
            statements_for(kitchen_screen, "GET", url, 204, headers=HTMX)  # the link, cached
        polled.clear()
        return statements_for(kitchen_screen, "GET", url, 204, headers=HTMX) + polled
    with running_feed(app) if feed_on else nullcontext():
        small, large = _twice(add_orders, count)
    on_postgresql = app.config["DB_KIND"] == "postgresql"
    assert_pinned("kiosk-idle-feed" if feed_on and on_postgresql else "kiosk-idle", small, large)


def test_kiosk_refresh(kitchen_screen, add_orders):
    small, large = _twice(add_orders, lambda made: statements_for(
        kitchen_screen, "GET", "/kiosk/Kitchen?stamp=0", 200, headers=HTMX))
    assert_pinned("kiosk-refresh", small, large)


def test_ticket_update_creating_an_order(client, add_orders, waiter, catalog):
    headers = bearer(waiter, "POS-1")
    ticket = client.post("/api/tickets", headers=headers, json={
        "name": "Bench", "items": [{"productCode": "COLA", "quantity": 1}]}).json
    quantity = iter(range(2, 100))

    def count(made):
        return statements_for(client, "PUT", f"/api/tickets/{ticket['id']}", 200,
                              headers=headers, json={"name": "Bench", "items": [
                                  {"productCode": "COLA", "quantity": next(quantity)}]})
    small, large = _twice(add_orders, count)
    assert_pinned("ticket-update", small, large)
