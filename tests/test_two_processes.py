"""Two server processes sharing one PostgreSQL database (contract 5.2): a change made through one
appears on a kiosk screen or a ready board served by the other within 2 seconds, because the
screens' signal is a counter row in the database, not anything in one process's memory."""
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from app.extensions import db
from app.models.orders import OrderEntry
from app.services import kiosk_links, products, stations
from tests.conftest import bearer, make_ticket
from tests.dispatch_fakes import FakePrinter, decode_slip

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`flask run` in a process of its own, on the test database."""

    def __init__(self, database_url: str, log: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "ORDERS_ENV": "testing",
               "AUTO_PROCESS": "1", **(env or {})}
        env.pop("SECRET_KEY", None)  # both use the testing secret
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_up(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server on {self.port} exited: {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/sign-in", timeout=1).close()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"server on {self.port} did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


@pytest.fixture
def two_servers(app, tmp_path):
    # PostgreSQL is the several-process setup, but two processes on one SQLite file (WAL) must
    # see each other's changes just the same.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(Server(url, tmp_path / f"server-{name}.log"))
        for server in servers:
            server.wait_until_up()
        yield servers
    finally:
        for server in servers:
            server.stop()


class Screen:
    """A kiosk screen as the browser drives it: a cookie session, the version, the 1 s poll."""

    def __init__(self, server: Server, station: str, secret: str):
        self.base = f"{server.url}/kiosk/{station}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{self.base}?key={secret}", timeout=5)  # follows the 303
        assert page.url == self.base
        self.html = page.read().decode()
        self.version = re.search(r'"version": "(\d+)"', self.html).group(1)
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', self.html).group(1)

    def poll(self) -> int:
        request = urllib.request.Request(f"{self.base}?version={self.version}",
                                         headers={"HX-Request": "true"})
        with self.opener.open(request, timeout=3) as answer:
            if answer.status == 200:
                self.html = answer.read().decode()
                self.version = re.search(r'"version": "(\d+)"', self.html).group(1)
            return answer.status

    def wait_for(self, predicate, within=2.0, every=1.0) -> float:
        """Poll like the screen does (every second) until predicate(html); the seconds it took."""
        start = time.monotonic()
        while True:
            self.poll()
            elapsed = time.monotonic() - start
            if predicate(self.html):
                return elapsed
            assert elapsed < within, f"not seen within {within} s"
            time.sleep(every)

    def post(self, path: str) -> int:
        request = urllib.request.Request(f"{self.base}{path}", data=b"", method="POST",
                                         headers={"HX-Request": "true",
                                                  "X-CSRFToken": self.csrf})
        with self.opener.open(request, timeout=5) as answer:
            return answer.status


class Board(Screen):
    """A ready board as its television drives it: opened by a board link, polled every second."""

    def __init__(self, server: Server, secret: str, path: str = "/board"):
        self.base = f"{server.url}{path}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{self.base}?key={secret}", timeout=5)  # follows the 303
        assert page.url == self.base
        self.html = page.read().decode()
        self.version = self._version()

    def _version(self) -> str:
        return re.search(r'"version": "([\d.]+)"', self.html).group(1)

    def poll(self) -> int:
        request = urllib.request.Request(f"{self.base}?version={self.version}",
                                         headers={"HX-Request": "true"})
        with self.opener.open(request, timeout=3) as answer:
            if answer.status == 200:
                self.html = answer.read().decode()
                self.version = self._version()
            return answer.status

    def column(self, key: str) -> list[int]:
        part = re.search(rf'<section class="column {key}".*?</section>', self.html, re.DOTALL)
        return [int(n) for n in re.findall(r'data-number="(\d+)"', part.group(0))]


def api(server: Server, method: str, path: str, headers: dict, body=None) -> dict:
    request = urllib.request.Request(
        server.url + "/api" + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read() or b"null")


def test_a_change_through_one_process_shows_on_a_screen_of_the_other(
        two_servers, catalog, waiter, manager, admin):
    a, b = two_servers
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen", name="Wall")
    screen_b = Screen(b, "Kitchen", secret)
    screen_a = Screen(a, "Kitchen", secret)
    assert screen_b.poll() == 204  # idle: nothing changed

    # A ticket through process A's API: process B's screen shows its card.
    api(a, "POST", "/tickets", bearer(waiter, "POS-1"), {
        "name": "Table 42", "items": [{"productCode": "FRIES", "quantity": 2}]})
    took = screen_b.wait_for(lambda html: "Table 42" in html)
    assert took < 2.0

    # A bump on process B's screen: process A's screen sees the card leave, and A's API
    # reads the completed station.
    screen_a.wait_for(lambda html: "Table 42" in html)
    order_id = re.search(r'data-card="([^"]+)"', screen_b.html).group(1)
    assert screen_b.post(f"/orders/{order_id}/bump") == 200
    took = screen_a.wait_for(lambda html: "Table 42" not in html)
    assert took < 2.0
    order = api(a, "GET", f"/orders/{order_id}", bearer(manager))
    assert [e["status"] for e in order["endpoints"]] == ["Completed"]


def test_a_change_through_one_process_shows_on_a_ready_board_of_the_other(
        two_servers, catalog, waiter, manager, admin):
    a, b = two_servers
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name="",
                                              name="Counter TV")
    board = Board(b, secret)
    assert board.column("preparing") == [] and board.poll() == 204  # idle: nothing changed

    # A ticket through process A's API: its number appears under Preparing on B's board.
    api(a, "POST", "/tickets", bearer(waiter, "POS-1"), {
        "name": "Table 42", "items": [{"productCode": "FRIES", "quantity": 2}]})
    took = board.wait_for(lambda html: 'data-number="' in html)
    assert took < 2.0
    order = api(a, "GET", "/orders?$take=1", bearer(manager))["items"][0]
    assert board.column("preparing") == [order["number"]]

    # Marked Ready through A's API: on B's board it moves to Ready, within 2 seconds.
    api(a, "POST", f"/orders/{order['id']}/status", bearer(manager), {"status": "Ready"})
    took = board.wait_for(lambda html: 'data-ready-at="' in html)
    assert took < 2.0
    assert (board.column("preparing"), board.column("ready")) == ([], [order["number"]])
    assert "Table 42" not in board.html  # numbers only: the board shows no names by default


def test_two_processes_processing_the_same_orders_print_each_slip_once(
        app, catalog, waiter, manager, tmp_path):
    """Contract 2.4: each server process sends from its own background thread; processing the
    same orders through both at once still prints every slip exactly once."""
    with FakePrinter() as printer:
        stations.create_station(name="Grill", type="printer", address=printer.address)
        products.create_product(code="STEAK", name="Steak", price=Decimal("24.00"),
                                station_names=["Grill"])
        app.config["AUTO_PROCESS"] = False
        made = [make_ticket(waiter, catalog, ("STEAK", 1), name=f"T{i}")[1][0]
                for i in range(12)]
        ids = [order.id for order in made]
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        env = {"DISPATCH_IN_BACKGROUND": "1", "DISPATCH_POLL_SECONDS": "0.1",
               "DISPATCH_CONNECT_TIMEOUT": "1", "DISPATCH_SEND_TIMEOUT": "1"}
        servers = [Server(url, tmp_path / f"server-{n}.log", env) for n in ("a", "b")]
        try:
            for server in servers:
                server.wait_until_up()
            headers = bearer(manager)
            with ThreadPoolExecutor(4) as pool:
                calls = [pool.submit(api, server, "POST", "/orders", headers,
                                     {"orderIds": ids}) for server in servers * 2]
                answers = [call.result() for call in calls]
            # Each order was processed (its slip queued) by exactly one of the four calls.
            assert sorted(o["id"] for answer in answers for o in answer) == sorted(ids)
            printer.wait_for(len(ids), timeout=30)
            deadline = time.monotonic() + 30
            while _dispatched() < len(ids):
                assert time.monotonic() < deadline, "slips sent but not recorded"
                time.sleep(0.1)
            time.sleep(1)  # room for a second copy to arrive, were one sent
        finally:
            for server in servers:
                server.stop()
        numbers = sorted(next(line for line in decode_slip(job).large_lines
                              if line.startswith("#")) for job in printer.jobs)
    assert numbers == sorted(f"#{order.number}" for order in made)


def _dispatched() -> int:
    db.session.commit()
    return db.session.scalar(db.select(db.func.count()).select_from(OrderEntry).where(
        OrderEntry.processed_at.is_not(None)))
