"""How many SQL statements each route of the benchmark (bench/rows.py) runs, pinned.

Each route is counted with few orders and with many more, and must run the same, pinned number
of statements both times: a loop that loads something per order or per item (an N+1) fails
here, and so does any extra round trip on these hot paths. When a change means to move a
number, the assertion prints the statements to review before re-pinning. (The API list's
invariance for every include is pinned in tests/api/test_orders_query.py; here are the
exact numbers of the benchmark's own queries.)
"""

import pytest

from app.extensions import db
from app.services import history, kiosk_links
from tests.conftest import bearer, counted_statements, make_ticket
from tests.web.helpers import HTMX, sign_in

# SQLite opens each transaction with a BEGIN of its own (app/db/transactions.py), which the engine
# sees as a statement; PostgreSQL's driver begins implicitly.
PINNED = {
    # route: statements, not counting those BEGINs
    # the token with its user; the change counter and the stations' version (the ETag); the
    # page's keys (id, version, last save, the stations' version) with the total (from the
    # counters) in one statement; then the orders not cached in that state, with their cells,
    # items and entries (app/caching/order_documents.py; with every order cached, those go)
    "api-list": 7,
    # the same with the total first, to know which end the page is nearer
    "api-deep": 8,
    # as api-list, the total a count query rather than the counters
    "api-keyset": 7,
    # the token with its user, the versions, and the count (a counter row, or a count query)
    "api-count-counters": 3,
    "api-count-filtered": 3,
    "api-count-station": 3,
    # user, both versions, the page's keys with the total, the orders whose rows are not cached
    # (app/caching/list_rows.py) with their entries, cells and items, the counters per status,
    # the stations of the filter form, and the screens of the display stations (the station
    # alarm banner)
    "dashboard-list": 10,
    # drawn again after a change elsewhere: every row of the page kept, those four go
    "dashboard-list-rows-kept": 6,
    # user, both versions, the order's version (visible?), the order, its entries, cells,
    # history and items
    "order-page": 8,
    # the kiosk link (still live), the change counter
    "kiosk-idle": 2,
    # the kiosk link, the change counter, the station, the count, the cards, their items with
    # this station's cells, the all-day counts, the orders of the cards' tickets that have a
    # void order (none here; with some, their items too: app.services.voids)
    "kiosk-refresh": 8,
    # the token with its user and device; the ticket with its items, device and user; the
    # products with their stations; then in one write transaction: the ticket claimed (its
    # name, version and save time) and its changed item;
    # the order number and the counters in one upsert; the order, its entries, items, cells
    # and history lines, one insert each; the change counter and the events counter in one
    # upsert; the order's events (order.created), one executemany for the whole transaction
    # (app/services/events.py: written last, numbered under the change counter's lock, so the
    # feed is gap-free in commit order; that insert is the one statement events add)
    "ticket-update": 13,  # 27 when the ORM flushed the order piece by piece
}
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


def test_dashboard_list_page(client, add_orders, manager):
    sign_in(client, manager)
    small, large = _twice(add_orders, lambda made: statements_for(client, "GET", "/orders", 200))
    assert_pinned("dashboard-list", small, large)


def test_dashboard_list_with_its_rows_kept(client, add_orders, manager):
    sign_in(client, manager)

    def redrawn(made):
        client.get("/orders")
        # Drawn by the view again, but from cached rows.
        return statements_for(client, "GET", "/orders?again=1", 200)
    small, large = _twice(add_orders, redrawn)
    assert_pinned("dashboard-list-rows-kept", small, large)


def test_order_page(client, add_orders, manager):
    sign_in(client, manager)
    small, large = _twice(add_orders, lambda made: statements_for(
        client, "GET", f"/orders/{made[-1].id}", 200))
    assert_pinned("order-page", small, large)


@pytest.fixture
def kitchen_screen(app, client, admin, catalog):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                              name="Kitchen wall")
    assert client.get(f"/kiosk/Kitchen?key={secret}").status_code == 303
    # The screen's drawing says it is there; its polls write that again only once per
    # STATION_SEEN_WRITE_SECONDS (app.services.station_health), longer here than the data
    # takes to make.
    app.config.update(STATION_SEEN_WRITE_SECONDS=3600, STATION_UNWATCHED_SECONDS=7200)
    assert client.get("/kiosk/Kitchen").status_code == 200
    return client


def test_kiosk_idle_poll(kitchen_screen, add_orders):
    def count(made):
        db.session.commit()  # the current counter, not an earlier snapshot's
        url = f"/kiosk/Kitchen?version={history.change_counter()}"
        return statements_for(kitchen_screen, "GET", url, 204, headers=HTMX)
    small, large = _twice(add_orders, count)
    assert_pinned("kiosk-idle", small, large)


def test_kiosk_refresh(kitchen_screen, add_orders):
    small, large = _twice(add_orders, lambda made: statements_for(
        kitchen_screen, "GET", "/kiosk/Kitchen?version=0", 200, headers=HTMX))
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
