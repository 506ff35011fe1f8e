"""Serving: gunicorn with 4 workers on PostgreSQL, as `make serve` runs it.

The server starts on an empty database (the migrations run at start-up), answers /health, and
takes hundreds of concurrent status changes and ticket updates over loopback. Afterwards
nothing is lost or duplicated: order numbers are unique, every order's stored status is the
aggregate of its cells, the history has one line per accepted change, every counter row
matches what it counts, and every ticket's orders add up to its items.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from app.core import status as S
from app.extensions import db
from app.models import Counter as CounterRow
from app.models import Device, Station, Ticket
from app.models.orders import Order, OrderCell, OrderEvent, OrderItem
from app.services import products, stations, users
from app.services.tickets import LineInput, create_ticket
from tests.conftest import PASSWORD, POSTGRES, make_app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

WORKERS = 4
TICKETS = 8
STATUS_CHANGES = 320
TICKET_UPDATES = 160
CLIENT_THREADS = 24
PRODUCTS = {"BURGER": ["Kitchen", "Pass"], "FRIES": ["Kitchen"], "COLA": ["Bar"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return "redis://127.0.0.1:6379/14"
    except OSError:
        return "memory://"


@pytest.fixture
def empty_database():
    """A PostgreSQL database of its own, with no tables: the server must migrate it. Gunicorn
    with several workers is the PostgreSQL setup (contract 5.5), so this runs there only."""
    name = f"orders_serve_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES}/{name}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Gunicorn:
    def __init__(self, database_url: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        env = {**os.environ, "DATABASE_URL": database_url, "ORDERS_ENV": "production",
               "SECRET_KEY": "serving-test-" + uuid.uuid4().hex, "HOST": "127.0.0.1",
               "PORT": str(self.port), "WEB_CONCURRENCY": str(WORKERS),
               "RATELIMIT_STORAGE_URI": redis_url(), "AUTO_PROCESS": "1"}
        self.log = log.open("ab")  # O_APPEND: the workers' lines never overwrite each other
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_healthy(self, timeout=60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as answer:
                    return json.loads(answer.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not start: {self.log_path.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def log_lines(self) -> list[dict]:
        lines = []
        for raw in self.log_path.read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


@pytest.fixture
def server(empty_database, tmp_path):
    gunicorn = Gunicorn(empty_database, tmp_path / "gunicorn.log")
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


def call(server: Gunicorn, method: str, path: str, token: str, body=None):
    request = urllib.request.Request(
        server.url + "/api" + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null"), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers


def seed(url: str):
    """Stations, products, users and the first tickets, through the services."""
    app = make_app(url.replace("postgresql://", "postgresql+psycopg://"))
    with app.app_context():
        for name in ("Kitchen", "Bar", "Pass"):
            stations.create_station(name=name)
        for code, routed in PRODUCTS.items():
            products.create_product(code=code, name=code.title(), price=Decimal("3.50"),
                                    station_names=routed)
        device = Device(name="POS-1")
        db.session.add(device)
        db.session.commit()
        waiter = users.save_user(user_name="waiter", password=PASSWORD,
                                 rights=["ticketCreate", "ticketUpdate"])
        users.save_user(user_name="manager", password=PASSWORD,
                        rights=["orderRead", "orderUpdate"])
        tickets = [create_ticket(user=waiter, device=device, name=f"Table {n}",
                                 lines=[LineInput(code, Decimal(1)) for code in PRODUCTS])[0]
                   for n in range(TICKETS)]
        orders = list(db.session.scalars(select(Order).order_by(Order.number)))
        tokens = {"waiter": users.sign_in(user_name="waiter", password=PASSWORD,
                                          device_name="POS-1")[1],
                  "manager": users.sign_in(user_name="manager", password=PASSWORD)[1]}
        seeded = {"tickets": [t.id for t in tickets], "tokens": tokens,
                  "orders": {o.id: o.version for o in orders}}
        db.engine.dispose()
    return app, seeded


def workload(seeded: dict, rng: random.Random) -> list[tuple]:
    tasks = []
    for _ in range(STATUS_CHANGES):
        order_id = rng.choice(list(seeded["orders"]))
        level = rng.choice(["order", "item", "endpoint"])
        # Mostly forward moves, some back by one, some refused (out of Cancelled, two back).
        status = rng.choices(S.ALL, weights=[2, 5, 5, 4, 1])[0]
        path = {"order": f"/orders/{order_id}/status",
                "item": f"/orders/{order_id}/items/{rng.randint(1, 3)}/status",
                "endpoint": f"/orders/{order_id}/endpoints/"
                            f"{rng.choice(['Kitchen', 'Bar', 'Pass'])}/status"}[level]
        tasks.append(("status", order_id, "POST", path, {"status": status}))
    for _ in range(TICKET_UPDATES):
        ticket_id = rng.choice(seeded["tickets"])
        items = [{"productCode": code, "quantity": q} for code in PRODUCTS
                 if (q := rng.randint(0, 3))]
        tasks.append(("ticket", ticket_id, "PUT", f"/tickets/{ticket_id}",
                      {"name": "Table", "items": items}))
    rng.shuffle(tasks)
    return tasks


def test_four_gunicorn_workers_lose_and_duplicate_nothing(server, empty_database):
    health = server.wait_until_healthy()
    assert health == {"status": "ok", "database": "ok"}
    app, seeded = seed(empty_database)
    tasks = workload(seeded, random.Random(7))
    tokens = seeded["tokens"]

    def run(task):
        kind, target, method, path, body = task
        token = tokens["manager"] if kind == "status" else tokens["waiter"]
        status, answer, headers = call(server, method, path, token, body)
        return kind, target, body, status, answer, headers.get("X-Request-Id")

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        results = list(pool.map(run, tasks, timeout=240))
    elapsed = time.monotonic() - started
    print(f"{len(tasks)} requests in {elapsed:.1f} s against {WORKERS} workers")

    # Every answer is an accepted change or a refused status move; nothing failed or timed out.
    outcomes = Counter((kind, status) for kind, _, _, status, _, _ in results)
    assert set(outcomes) <= {("status", 200), ("status", 409), ("ticket", 200)}, outcomes
    assert outcomes[("status", 200)] > 50 and outcomes[("ticket", 200)] == TICKET_UPDATES

    with app.app_context():
        check_orders(seeded, results)
        check_tickets(seeded, results)
        check_counters()
        db.engine.dispose()
    check_logs(server, results)
    assert check_integrity(empty_database).returncode == 0


def check_integrity(database_url: str) -> subprocess.CompletedProcess:
    """`flask check-integrity` on the database, as an operator runs it."""
    env = {**os.environ, "DATABASE_URL": database_url, "ORDERS_ENV": "production",
           "SECRET_KEY": "integrity-check-" + uuid.uuid4().hex}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "check-integrity"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_worker_killed_mid_burst_leaves_nothing_half_done(server, empty_database):
    """A worker killed with SIGKILL while requests run: its requests in flight fail (the
    client sees the connection drop), every transaction it had open rolls back, gunicorn
    starts another, and the database still agrees with itself."""
    server.wait_until_healthy()
    app, seeded = seed(empty_database)
    tasks = workload(seeded, random.Random(11))[:240]
    tokens = seeded["tokens"]

    def run(task):
        kind, _, method, path, body = task
        try:
            return call(server, method, path,
                        tokens["manager"] if kind == "status" else tokens["waiter"], body)[0]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # in flight on the killed worker

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        first = [pool.submit(run, task) for task in tasks]
        while sum(f.done() for f in first) < len(tasks) // 3:
            time.sleep(0.01)
        os.kill(server.worker_pids()[0], signal.SIGKILL)
        statuses = [f.result(timeout=240) for f in first]
    assert statuses.count(200) > len(tasks) // 2, statuses
    assert set(statuses) <= {200, 409, None}, statuses
    result = check_integrity(empty_database)
    assert result.returncode == 0, result.stderr
    assert "All checks passed." in result.stdout


def check_orders(seeded: dict, results: list) -> None:
    numbers = db.session.scalars(select(Order.number).order_by(Order.number)).all()
    assert numbers == list(range(1, len(numbers) + 1))  # unique, none skipped
    cells = defaultdict(list)
    for order_id, status in db.session.execute(select(OrderCell.order_id, OrderCell.status)):
        cells[order_id].append(status)
    for order in db.session.scalars(select(Order)):
        assert order.status == S.aggregate(cells[order.id]), order.number
        assert (order.completed_at is not None) == (order.status == S.COMPLETED), order.number

    # One history line per accepted change: each change answered a new _v, and a request that
    # changed nothing answered a _v some change (or the start) had already answered.
    answered = defaultdict(set)
    for kind, order_id, _, status, answer, _ in results:
        if kind == "status" and status == 200:
            answered[order_id].add(answer["_v"])
    lines = Counter(db.session.scalars(select(OrderEvent.order_id)
                                       .where(OrderEvent.action == "status")))
    for order_id, first_version in seeded["orders"].items():
        order = db.session.get(Order, order_id)
        changes = {v for v in answered[order_id] if v > first_version}
        assert lines[order_id] == len(changes) == order.version - first_version, order.number
        assert changes == set(range(first_version + 1, order.version + 1)), order.number


def check_tickets(seeded: dict, results: list) -> None:
    last = {}
    for kind, ticket_id, body, status, answer, _ in results:
        if kind == "ticket" and (ticket_id not in last or answer["_v"] > last[ticket_id]["_v"]):
            last[ticket_id] = answer
    for ticket_id in seeded["tickets"]:
        ticket = db.session.get(Ticket, ticket_id)
        db.session.refresh(ticket)
        # The stored ticket is the answer of the last update applied to it.
        assert ticket.version == last[ticket_id]["_v"]
        stored = {i.product_code: i.quantity for i in ticket.items}
        assert stored == {i["productCode"]: Decimal(str(i["quantity"]))
                          for i in last[ticket_id]["items"]}
        # Its orders (new ones and voids) add up to its items: no difference lost or doubled.
        ordered = defaultdict(Decimal)
        for code, quantity in db.session.execute(
                select(OrderItem.product_code, OrderItem.quantity).join(Order)
                .where(Order.ticket_id == ticket_id)):
            ordered[code] += quantity
        assert {c: q for c, q in ordered.items() if q} == stored, ticket.name


def check_counters() -> None:
    counters = dict(db.session.execute(select(CounterRow.name, CounterRow.value)).all())
    assert counters["changes"] == db.session.scalar(select(func.count()).select_from(OrderEvent))
    live = Counter(db.session.scalars(select(Order.status).where(Order.deleted_at.is_(None))))
    for status in S.ALL:
        assert counters[f"orders.{status}"] == live[status], status
    assert db.session.scalar(select(func.count()).select_from(Station)) == 3


def check_logs(server: Gunicorn, results: list) -> None:
    server.stop()
    lines = server.log_lines()
    assert any(line.get("message") == "migrations applied" for line in lines)
    requests = [line for line in lines if line.get("logger") == "app.requests"]
    logged = {line["requestId"] for line in requests}
    assert {request_id for *_, request_id in results} <= logged
    assert len({line["requestId"] for line in requests}) == len(requests)
    assert not [line for line in lines if line["level"] == "ERROR"]
