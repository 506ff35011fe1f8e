"""What is measured: one Row per line of the results table (issue 8's list, in its order).

A row's `prepare(stage)` runs just before its load, over HTTP, and returns the function that
builds each request; so a row that needs fresh state (the kiosk's current change stamp, the
tickets to update) gets it at its own turn, and nothing measured before it disturbs it.
"""
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench import client
from bench.load import http_request

PAGE = 50
STATION = "Kitchen"
# A first page with a filter and a sort that match most of the data, so there is a deep end to
# page to: completed orders, newest first (nearly every order of the seeded year).
FILTER_SORT = "status=Completed&$sort=-createdDateUtc"
LIST = f"$take={PAGE}&{FILTER_SORT}"
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Target:
    """A ratio to the hello-world to reach, or a share of another row's requests per second."""
    ratio: float
    of_row: str | None = None

    def text(self) -> str:
        return f">= {self.ratio:g} x {self.of_row}" if self.of_row else f">= {self.ratio:g}"


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    prepare: object  # (Stage) -> (index, seq) -> bytes
    expect: tuple = (200,)
    target: Target | None = None
    after: object = None  # (Stage, Result) -> a note for the report, or None


class Stage:
    """Who signs in, and what the data looks like, found out once over HTTP."""

    def __init__(self, port: int, concurrency: int):
        self.port, self.concurrency = port, concurrency
        self.api = client.Browser(port)
        self.manager = client.api_token(port, "manager", "manager-demo")
        self.waiter = client.api_token(port, "waiter", "waiter-demo", "POS-1")
        self.dashboard = client.signed_in(port, "manager", "manager-demo")
        self.paths: dict[str, str] = {}
        self.notes: list[str] = []
        self.screen: client.Browser | None = None
        self.orders_before = 0
        first = self.orders(LIST)
        self.total = first["totalCount"]
        self.newest = _parse_time(first["items"][0]["createdDateUtc"]) if first["items"] \
            else datetime(2026, 1, 1)

    def orders(self, query: str) -> dict:
        return self.api.json("GET", "/api/orders?" + query, token=self.manager)

    def get(self, key: str, path: str, headers: dict | None = None, cookie: str | None = None):
        """A GET, always the same request."""
        self.paths[key] = path
        headers = dict(headers or {})
        if cookie:
            headers["Cookie"] = cookie
        raw = http_request("GET", path, headers)
        return lambda index, seq: raw

    def api_get(self, key: str, query: str):
        return self.get(key, "/api/orders?" + query,
                        {"Authorization": f"Bearer {self.manager}", "Accept": "application/json"})


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT00:00:00Z")


def api_list(stage: Stage):
    return stage.api_get("api-list", LIST)


def api_deep(stage: Stage):
    skip = max(0, stage.total - PAGE)
    return stage.api_get("api-deep", f"{LIST}&$skip={skip}")


def api_keyset(stage: Stage):
    """The same deep page by keyset: "older than the last one I saw", which NData can already
    say (a filter on the sort key), so no offset is walked."""
    skip = max(0, stage.total - PAGE)
    before = stage.orders(f"{FILTER_SORT}&$skip={max(0, skip - 1)}&$take=1")["items"]
    cursor = before[0]["createdDateUtc"] if before and skip else "9999-12-31T00:00:00Z"
    query = f"{LIST}&createdDateUtc=lt:{cursor}"
    deep = [o["id"] for o in stage.orders(f"{LIST}&$skip={skip}")["items"]]
    keyset = [o["id"] for o in stage.orders(query)["items"]]
    if deep != keyset:
        stage.notes.append("The keyset page differs from the offset page (ties in "
                           "createdDateUtc); it is still one page of 50.")
    return stage.api_get("api-keyset", query)


def api_count_selective(stage: Stage):
    day = stage.newest - timedelta(days=1)
    return stage.api_get("api-count-selective", "$count=true&createdDateUtc="
                         f"gte:{_day(day)};lt:{_day(day + timedelta(days=1))}")


def api_count_unselective(stage: Stage):
    return stage.api_get("api-count-unselective", "$count=true&isVoid=false")


def api_count_station(stage: Stage):
    return stage.api_get("api-count-station", f"$count=true&endpointName={STATION}")


def dashboard_list(stage: Stage):
    return stage.get("dashboard-list", "/orders", cookie=stage.dashboard.cookie_header)


def dashboard_redrawn(stage: Stage):
    """The list page drawn by the view every time, as after a change elsewhere: each request
    asks a new address (an argument the page ignores), so no whole page is kept for it, while
    its rows are (app/caching/list_rows.py)."""
    stage.paths["dashboard-redrawn"] = "/orders?redraw=<n>"
    cookie = stage.dashboard.cookie_header

    def make(index, seq):
        return http_request("GET", f"/orders?redraw={index}-{seq}", {"Cookie": cookie})
    return make


def order_page(stage: Stage):
    """Fifty orders spread over the whole history, each client walking through them."""
    newest = stage.orders("$sort=-number&$take=1")["items"]
    top = newest[0]["number"] if newest else 1
    numbers = sorted(random.Random(8).sample(range(1, top + 1), min(PAGE, top)))
    found = stage.orders(f"number=in:{','.join(map(str, numbers))}&$take={PAGE}")["items"]
    ids = [o["id"] for o in found]
    stage.paths["order-page"] = "/orders/<one of 50 ids>"
    cookie = stage.dashboard.cookie_header
    raws = [http_request("GET", f"/orders/{i}", {"Cookie": cookie}) for i in ids]
    return lambda index, seq: raws[(index * 7 + seq) % len(raws)]


def _screen(stage: Stage) -> client.Browser:
    if stage.screen is None:
        admin = client.signed_in(stage.port, "admin", "admin-demo")
        stage.screen = client.kiosk_screen(stage.port, admin, STATION)
    return stage.screen


def kiosk_idle(stage: Stage):
    """The wall screen's poll when nothing changed: the stamp it was drawn at is current.

    The stamp is the one change counter every screen polls with; it is read from the dashboard
    list, because drawing the board itself can take longer than the request timeout."""
    screen = _screen(stage)
    _, _, page = stage.dashboard.get("/orders", headers=HTMX)
    stamp = client.change_stamp(page)
    return stage.get("kiosk-idle", f"/kiosk/{STATION}?version={stamp}", HTMX,
                     screen.cookie_header)


def kiosk_refresh(stage: Stage):
    """The poll after a change: the stamp is old, so the board is drawn again."""
    screen = _screen(stage)
    return stage.get("kiosk-refresh", f"/kiosk/{STATION}?version=0", HTMX, screen.cookie_header)


def ticket_update(stage: Stage):
    """Each client owns a ticket and adds one cola to it per request: one new order each."""
    tickets = []
    for index in range(stage.concurrency):
        body = {"name": f"Bench {index}", "items": [{"productCode": "COLA", "quantity": 1}]}
        made = stage.api.json("POST", "/api/tickets", body, token=stage.waiter, expect=(201,))
        tickets.append(made["id"])
    stage.orders_before = stage.orders("$count=true")["count"]
    stage.paths["ticket-update"] = "PUT /api/tickets/<own ticket> (+1 cola: one order)"
    headers = {"Authorization": f"Bearer {stage.waiter}", "Content-Type": "application/json",
               "Accept": "application/json"}

    def make(index, seq):
        body = json.dumps({"name": f"Bench {index}", "items": [
            {"productCode": "COLA", "quantity": seq + 2}]}).encode()
        return http_request("PUT", f"/api/tickets/{tickets[index]}", headers, body)
    return make


def orders_created(stage: Stage, result) -> str:
    made = stage.orders("$count=true")["count"] - stage.orders_before
    ok = sum(n for status, n in result.statuses.items() if 200 <= status < 300)
    return f"ticket-update: {made} orders created by {ok} successful updates (warm-up included)."


LIST_TARGET = Target(0.5, "api-list")
ROWS = [
    Row("api-list", "API list: 50 completed orders newest first, items, totalCount", api_list,
        target=Target(0.25)),
    Row("api-deep", "API list deep: the same, $skip to the last page", api_deep,
        target=LIST_TARGET),
    Row("api-keyset", "API list deep by keyset: createdDateUtc=lt:<last seen>", api_keyset,
        target=LIST_TARGET),
    Row("api-count-selective", "API count, selective: one day", api_count_selective,
        target=LIST_TARGET),
    Row("api-count-unselective", "API count, unselective: isVoid=false",
        api_count_unselective, target=LIST_TARGET),
    Row("api-count-station", "API count by station: endpointName=Kitchen", api_count_station,
        target=LIST_TARGET),
    Row("dashboard-list", "Dashboard list page /orders (full page)", dashboard_list,
        target=Target(0.2)),
    Row("dashboard-redrawn", "Dashboard list page drawn again (a new address each time)",
        dashboard_redrawn),
    Row("order-page", "Dashboard order page /orders/<id> (full page)", order_page),
    Row("kiosk-idle", "Kiosk poll, nothing changed (204)", kiosk_idle, expect=(204,),
        target=Target(0.6)),
    Row("kiosk-refresh", "Kiosk poll after a change: the Kitchen board", kiosk_refresh),
    Row("ticket-update", "Ticket update creating an order (orders/s)", ticket_update,
        target=Target(0.1), after=orders_created),
]
