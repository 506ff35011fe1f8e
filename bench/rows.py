"""What is measured: one Row per line of the results table, each a kitchen at work.

A row's `prepare(stage)` runs just before its load, over HTTP, and returns the load's Groups:
"main", the clients the row measures, first; then what runs beside them (the tills' ticket
updates). So a row that needs fresh state (a screen's current version, the tickets
to update) gets it at its own turn.
"""
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench import client
from bench.load import Group, http_request
from bench.mix import Mix
from bench.targets import MAIN, P99, Memory, NoFailure, Ratio

UPDATES = "updates"
SCREENS_STATIONS = ("Kitchen", "Bar", "Pass")  # where the ticket updates' items go
UPDATES_PER_SECOND = 10
TILLS = 10
SCREENS = 30
POLL_SECONDS = 1.0  # the kiosk board's own poll (templates/kiosk/macros.html)
HTMX = {"HX-Request": "true"}
# The list a till keeps open: the open orders, newest first.
OPEN_LIST = "status=in:New,Processing,Ready&$sort=-number&$take=50"
VERSION = re.compile(rb'"version":\s*"(\d+)"')
# Each update moves these quantities round 1 -> 2 -> 3 -> 1, each line at its own point of
# the round: every update adds one to two lines and takes two from the third, so it makes an
# order and a void order, for the Kitchen, the Pass and the Bar in turn.
CHANGED_LINES = ("BURGER", "FRIES", "COLA")


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    prepare: object  # (Stage) -> list[Group], "main" first
    expect: dict = field(default_factory=lambda: {MAIN: (200,)})  # group -> allowed statuses
    needs: tuple = ()  # statuses the main clients must have seen at least once
    timed: int | None = None  # the status whose latencies p50 and p99 are of; None: every one
    targets: tuple = ()
    after: object = None  # (Stage, results) -> a note for the report, or None


class Stage:
    """Who signs in, and what the data looks like, found out once over HTTP."""

    def __init__(self, port: int, concurrency: int, seed: str = "bench"):
        self.port, self.concurrency, self.seed = port, concurrency, seed
        self.api = client.Browser(port)
        self.manager = client.api_token(port, "manager", "manager-demo")
        self.waiter = client.api_token(port, "waiter", "waiter-demo", "POS-1")
        self.admin: client.Browser | None = None
        self.screens_made = 0
        self.notes: list[str] = []
        self.orders_before = 0
        newest = self.orders("$sort=-number&$take=1")["items"]
        self.top = newest[0]["number"] if newest else 0

    def orders(self, query: str) -> dict:
        return self.api.json("GET", "/api/orders?" + query, token=self.manager)

    def api_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.manager}", "Accept": "application/json"}

    def tickets(self, name: str, count: int) -> list[tuple[str, str]]:
        """`count` open tickets with the changed lines at the start of their round:
        (id, name) each."""
        made = []
        for index in range(count):
            body = {"name": f"{name} {index + 1}", "items": _lines(0)}
            made.append((self.api.json("POST", "/api/tickets", body, token=self.waiter,
                                       expect=(201,))["id"], body["name"]))
        return made

    def screens(self, stations: list[str]) -> list[tuple[str, str, bytes]]:
        """Wall screens, each signed in by its own kiosk link, each board drawn once as the
        screen opens it: (path, cookie, the version it was drawn at) each."""
        if self.admin is None:
            self.admin = client.signed_in(self.port, "admin", "admin-demo")
        names = [f"bench screen {self.screens_made + i + 1} ({station})"
                 for i, station in enumerate(stations)]
        self.screens_made += len(stations)
        links = client.kiosk_links(self.admin, list(zip(stations, names)))

        def open_one(station_link):
            station, link = station_link
            browser = client.open_screen(self.port, link)
            path = f"/kiosk/{station}"
            _, _, page = browser.get(path)
            return path, browser.cookie_header, client.change_version(page).encode()
        # Thirty screens opened one after the other would take longer than their row.
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(open_one, zip(stations, links)))


def _lines(turn: int) -> list[dict]:
    return [{"productCode": code, "quantity": 1 + (turn + k) % 3}
            for k, code in enumerate(CHANGED_LINES)]


class TicketChanges:
    """PUT /api/tickets/<id> from the tills: each till changes the quantities of its own
    ticket."""

    def __init__(self, tickets: list[tuple[str, str]], token: str):
        self.tickets = tickets
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json"}

    def __call__(self, index: int, seq: int) -> bytes:
        ticket_id, name = self.tickets[index]
        body = json.dumps({"name": name, "items": _lines(seq + 1)}).encode()
        return http_request("PUT", f"/api/tickets/{ticket_id}", self.headers, body)


class Screens:
    """Kiosk screens polling with the version their board was drawn at, as htmx does: a 204
    keeps the version, a 200 is the board drawn again and carries the new one."""

    def __init__(self, screens: list[tuple[str, str, bytes]]):
        self.screens = screens
        self.versions = [version for _, _, version in screens]

    def __call__(self, index: int, seq: int) -> bytes:
        at = index % len(self.screens)
        path, cookie, _ = self.screens[at]
        return http_request("GET", f"{path}?version={self.versions[at].decode()}",
                            {**HTMX, "Cookie": cookie})

    def answered(self, index: int, status: int, answer: bytes) -> None:
        if status == 200 and (found := VERSION.search(answer)):
            self.versions[index % len(self.screens)] = found.group(1)


class Lists:
    """GET /api/orders with a different query each time (bench/mix.py)."""

    def __init__(self, mix: Mix, headers: dict):
        self.mix, self.headers = mix, headers

    def __call__(self, index: int, seq: int) -> bytes:
        return http_request("GET", "/api/orders?" + self.mix.query(index, seq), self.headers)


def _updates(stage: Stage, name: str) -> Group:
    """Ten tills, each changing its ticket once a second: ten updates a second in all, and
    a till that waits for a slow answer holds back only its own."""
    tickets = stage.tickets(name, TILLS)
    return Group(UPDATES, TicketChanges(tickets, stage.waiter), TILLS,
                 every=TILLS / UPDATES_PER_SECOND)


def lists_cold(stage: Stage):
    mix = Mix(f"{stage.seed}:lists-cold", stage.top)
    return [Group(MAIN, Lists(mix, stage.api_headers()), stage.concurrency)]


def lists_updating(stage: Stage):
    mix = Mix(f"{stage.seed}:lists-updating", stage.top)  # other queries than the cold row's
    return [Group(MAIN, Lists(mix, stage.api_headers()), stage.concurrency),
            _updates(stage, "Lists table")]


def list_304(stage: Stage):
    """The till's open list asked again with the ETag of its first answer. An answer without
    an ETag leaves nothing to send: the request then goes without If-None-Match (and the
    report says so)."""
    path = "/api/orders?" + OPEN_LIST
    _, headers, _ = stage.api.request("GET", path, headers=stage.api_headers())
    etag = next((v for k, v in headers.items() if k.lower() == "etag"), None)
    stage.notes.append(f"list-304: the first answer's ETag: {etag}" if etag else
                       "list-304: the first answer had no ETag, so no If-None-Match was sent")
    headers = stage.api_headers() | ({"If-None-Match": etag} if etag else {})
    raw = http_request("GET", path, headers)
    return [Group(MAIN, lambda index, seq: raw, stage.concurrency)]


def kiosk_idle(stage: Stage):
    return [Group(MAIN, Screens(stage.screens(["Kitchen"])), stage.concurrency)]


def kiosk_redraw(stage: Stage):
    screens = stage.screens([SCREENS_STATIONS[i % len(SCREENS_STATIONS)]
                             for i in range(SCREENS)])
    # The tills' tickets are opened after the boards were drawn: their orders are a change
    # every screen's first poll already finds, however slowly the first updates come.
    return [Group(MAIN, Screens(screens), SCREENS, every=POLL_SECONDS),
            _updates(stage, "Kiosk table")]


def ticket_update(stage: Stage):
    """Each client owns a ticket and adds one cola to it per request: one new order each."""
    tickets = []
    for index in range(stage.concurrency):
        body = {"name": f"Bench {index}", "items": [{"productCode": "COLA", "quantity": 1}]}
        made = stage.api.json("POST", "/api/tickets", body, token=stage.waiter, expect=(201,))
        tickets.append(made["id"])
    stage.orders_before = stage.orders("$count=true")["count"]
    headers = {"Authorization": f"Bearer {stage.waiter}", "Content-Type": "application/json",
               "Accept": "application/json"}

    def make(index, seq):
        body = json.dumps({"name": f"Bench {index}", "items": [
            {"productCode": "COLA", "quantity": seq + 2}]}).encode()
        return http_request("PUT", f"/api/tickets/{tickets[index]}", headers, body)
    return [Group(MAIN, make, stage.concurrency)]


def orders_created(stage: Stage, results) -> str:
    made = stage.orders("$count=true")["count"] - stage.orders_before
    ok = sum(n for status, n in results[MAIN].statuses.items() if 200 <= status < 300)
    return f"ticket-update: {made} orders created by {ok} successful updates (warm-up included)."


WITH_UPDATES = {MAIN: (200,), UPDATES: (200,)}
ROWS = [
    Row("lists-cold", "GET /api/orders, a different query each request (bench/mix.py: "
        "statuses, station, since a number, a table, unprocessed; $take 20-100, sorts, later "
        "pages)", lists_cold, targets=(Ratio(0.10),)),
    Row("lists-updating", "the same mix (other queries) while a till changes ticket "
        f"quantities {UPDATES_PER_SECOND} times a second (PUT /api/tickets/<id>, {TILLS} tills "
        "each changing its own ticket)",
        lists_updating, expect=WITH_UPDATES,
        targets=(Ratio(0.08), P99(50, label="reader"), NoFailure(UPDATES))),
    Row("list-304", f"GET /api/orders?{OPEN_LIST} with If-None-Match: the ETag of its first "
        "answer", list_304, expect={MAIN: (200, 304)}, targets=(Ratio(0.5),)),
    Row("kiosk-idle", "GET /kiosk/Kitchen?version=<current> with HX-Request, a screen signed in "
        "by a kiosk link: nothing changed (204)", kiosk_idle, expect={MAIN: (204,)},
        needs=(204,), targets=(Ratio(0.6),)),
    Row("kiosk-redraw", f"{SCREENS} kiosk screens (Kitchen, Bar, Pass) polling every "
        f"{POLL_SECONDS:g} s with their version while a till changes tickets "
        f"{UPDATES_PER_SECOND} times a second; p50/p99 of the redraws (200)", kiosk_redraw,
        expect={MAIN: (200, 204), UPDATES: (200,)}, needs=(200,), timed=200,
        targets=(P99(30, status=200, label="redraw"), NoFailure(UPDATES))),
    Row("ticket-update", "PUT /api/tickets/<own ticket>, one more cola each time: one new "
        "order each (orders/s)", ticket_update,
        targets=(Ratio(0.08), Memory(150)), after=orders_created),
]
