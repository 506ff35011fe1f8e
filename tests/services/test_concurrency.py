"""Real concurrency: many threads, each request in its own app context and database session,
writing to the same order or ticket at once. No lost update, no duplicate number, no
"database is locked"."""
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core import status as S
from app.core.errors import Conflict
from app.extensions import db
from app.models.orders import Order, OrderEvent
from app.services.integrity import check_integrity
from tests.conftest import bearer, make_ticket

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def consistent_afterwards(app):
    """After every burst the database agrees with itself: counters, numbers, statuses, open
    flags and tickets (app/services/integrity.py)."""
    yield
    db.session.remove()
    assert check_integrity() == []


def run_parallel(jobs, workers=8):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def test_parallel_item_status_changes_lose_nothing(app, client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("FRIES", 1), ("COLA", 1),
                              ("BREAD", 1), ("BURGER", 2, "no cheese"), ("COLA", 2, "ice"))
    order_id, start_version = order.id, order.version
    headers = bearer(manager)

    def advance(item_id):
        def job():
            codes = []
            for status in (S.PROCESSING, S.READY, S.COMPLETED):
                r = client.post(f"/api/orders/{order_id}/items/{item_id}/status",
                                json={"status": status}, headers=headers)
                codes.append((r.status_code, r.get_data(as_text=True)[:200]))
            return codes
        return job

    results = run_parallel([advance(i) for i in range(1, 7)], workers=6)
    assert all(code == 200 for codes in results for code, _ in codes), results
    db.session.expire_all()
    stored = db.session.get(Order, order_id)
    # Every one of the 18 changes bumped the version once: none was lost or doubled.
    assert stored.version == start_version + 18
    assert stored.status == S.COMPLETED and stored.completed_at is not None
    assert {c.status for c in stored.cells} == {S.COMPLETED}
    events = db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.action == "status")).all()
    assert len(events) == 18


def test_parallel_versioned_ticket_updates_lose_nothing(app, client, catalog, waiter):
    r = client.post("/api/tickets", json={"name": "Table 9", "items": [
        {"productCode": "FRIES", "quantity": 1}]}, headers=bearer(waiter, "POS-1"))
    ticket_id = r.json["id"]
    headers = bearer(waiter, "POS-1")

    def add_one_fries():
        conflicts = 0
        while True:
            current = client.get(f"/api/tickets/{ticket_id}", headers=headers).json
            quantity = Decimal(str(current["items"][0]["quantity"])) + 1
            r = client.put(f"/api/tickets/{ticket_id}", headers=headers, json={
                "name": current["name"], "_v": current["_v"],
                "items": [{"productCode": "FRIES", "quantity": str(quantity)}]})
            if r.status_code == 200:
                return conflicts
            assert r.status_code == 409 and r.json["errorCode"] == 6, r.json
            conflicts += 1

    run_parallel([add_one_fries] * 8)
    final = client.get(f"/api/tickets/{ticket_id}", headers=headers).json
    assert final["items"][0]["quantity"] == 9
    db.session.expire_all()
    orders = db.session.scalars(select(Order).where(Order.ticket_id == ticket_id)).all()
    # One order per successful update plus the first: exactly what the ticket holds.
    assert len(orders) == 9
    assert sum(o.items[0].quantity for o in orders) == 9
    numbers = sorted(o.number for o in orders)
    assert numbers == list(range(numbers[0], numbers[0] + 9))


def test_parallel_unversioned_ticket_updates_add_up(app, client, catalog, waiter):
    """Updates naming no version apply one after the other, each to what the one before left:
    the ticket ends as the last answer says, and its orders add up to its items."""
    headers = bearer(waiter, "POS-1")
    ticket_id = _put_colas(client, headers, None, 1).json["id"]
    # Each update has another number of lines, so rows are added and removed as well as changed.
    layouts = [[{"productCode": code, "quantity": quantity}
                for code in ("COLA", "FRIES", "BURGER")[:lines]]
               for lines, quantity in [(3, 2), (1, 4), (2, 1), (3, 3), (1, 1), (2, 5)] * 3]

    def update(items):
        def job():
            r = client.put(f"/api/tickets/{ticket_id}", headers=headers,
                           json={"name": "Table 9", "items": items})
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            return r.json
        return job

    answers = run_parallel([update(items) for items in layouts])
    last = max(answers, key=lambda answer: answer["_v"])
    final = client.get(f"/api/tickets/{ticket_id}", headers=headers).json
    assert final["items"] == last["items"]
    db.session.expire_all()
    ordered: dict = {}
    for order in db.session.scalars(select(Order).where(Order.ticket_id == ticket_id)):
        for item in order.items:
            ordered[item.product_code] = ordered.get(item.product_code, 0) + item.quantity
    assert {code: q for code, q in ordered.items() if q} == \
        {i["productCode"]: Decimal(str(i["quantity"])) for i in final["items"]}


def test_parallel_ticket_creation_gives_unique_consecutive_numbers(app, client, catalog,
                                                                    waiter):
    headers = bearer(waiter, "POS-1")

    def open_tickets(n):
        def job():
            for i in range(5):
                r = client.post("/api/tickets", headers=headers, json={
                    "name": f"Table {n}-{i}",
                    "items": [{"productCode": "COLA", "quantity": 1},
                              {"productCode": "BURGER", "quantity": 1}]})
                assert r.status_code == 201, r.get_data(as_text=True)
        return job

    run_parallel([open_tickets(n) for n in range(8)])
    numbers = sorted(db.session.scalars(select(Order.number)).all())
    assert numbers == list(range(1, 41))


def test_parallel_processing_dispatches_each_entry_once(app, client, catalog, waiter, manager):
    app.config["AUTO_PROCESS"] = False
    made = [make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1), name=f"T{i}")[1][0]
            for i in range(5)]
    ids = [o.id for o in made]
    headers = bearer(manager)

    def process():
        r = client.post("/api/orders", json={"orderIds": list(reversed(ids))}, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return [o["id"] for o in r.json]

    changed = run_parallel([process] * 6, workers=6)
    # Each order changed in exactly one of the six calls.
    assert sorted(i for batch in changed for i in batch) == sorted(ids)
    dispatched = db.session.scalars(select(OrderEvent).where(
        OrderEvent.action == "dispatched")).all()
    assert len(dispatched) == 5 * 3  # Kitchen, Pass, Bar per order


def _create_tickets_in_own_process(url: str, worker: int, count: int) -> list[int]:
    """Runs in a separate process: its own app, engine and connections."""
    from tests.conftest import lines, make_app

    app = make_app(url)
    with app.app_context():
        from app.models import Device, User
        from app.services.tickets import create_ticket

        user = db.session.scalar(select(User).where(User.user_name == "waiter"))
        device = db.session.scalar(select(Device).where(Device.name == "POS-1"))
        numbers = []
        for i in range(count):
            _, orders = create_ticket(user=user, device=device, name=f"P{worker}-{i}",
                                      lines=lines(("BURGER", 1), ("COLA", 1)))
            numbers += [o.number for o in orders]
        db.engine.dispose()
        return numbers


def test_several_processes_never_duplicate_order_numbers(app, catalog, waiter):
    import multiprocessing

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_create_tickets_in_own_process, [(url, w, 10) for w in range(3)])
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == list(range(1, 31))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 30


def test_parallel_status_changes_keep_the_status_counters_exact(app, client, catalog, waiter,
                                                                manager):
    from app.services import counts
    from tests.services.test_counts import scanned

    made = [make_ticket(waiter, catalog, ("BURGER", 1), name=f"T{i}")[1][0].id
            for i in range(6)]
    headers = bearer(manager)

    def walk(order_id):
        def job():
            for status in (S.PROCESSING, S.READY, S.PROCESSING, S.COMPLETED):
                r = client.post(f"/api/orders/{order_id}/status", json={"status": status},
                                headers=headers)
                assert r.status_code == 200, r.get_data(as_text=True)
        return job

    run_parallel([walk(i) for i in made], workers=6)
    db.session.rollback()
    assert counts.live_counts() == scanned()
    assert counts.live_counts()[S.COMPLETED] == 6


def test_parallel_edits_of_one_user_at_one_version_save_once(app, admin, manager):
    from app.core.errors import VersionMismatch
    from app.models import User
    from app.services import users

    admin_id, manager_id, version = admin.id, manager.id, manager.version

    def edit(i):
        def job():
            with app.app_context():
                try:
                    # Each thread its own session, and so its own copy of the acting admin.
                    actor = db.session.get(User, admin_id)
                    users.update_user(user=actor, user_id=manager_id, name=f"Editor {i}",
                                      rights=["orderRead"], is_active=True, version=version)
                    return "saved"
                except VersionMismatch:
                    return "stale"
                finally:
                    db.session.remove()
        return job

    results = run_parallel([edit(i) for i in range(8)])
    assert sorted(results) == ["saved"] + ["stale"] * 7
    db.session.commit()  # a fresh snapshot: the test's own transaction began before the edits
    db.session.expire_all()
    stored = db.session.get(User, manager_id)
    assert stored.version == version + 1 and stored.name.startswith("Editor ")


def _overtaken_once(monkeypatch, overtake):
    """Make the first ticket update run `overtake` (another writer, in another thread and
    session) after reading the ticket and before claiming it; answers the updates' reads."""
    from app.services import tickets

    reads, real = [], tickets._plan

    def plan(*args, **kwargs):
        reads.append(kwargs["before"])
        if len(reads) == 1:
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(overtake).result()
        return real(*args, **kwargs)

    monkeypatch.setattr(tickets, "_plan", plan)
    return reads


def _put_colas(client, headers, ticket_id, quantity, name="Table 9", **more):
    """Open "Table 9" with colas (no ticket id yet), or set an open ticket's colas."""
    body = {"name": name, "items": [{"productCode": "COLA", "quantity": quantity}], **more}
    if ticket_id is None:
        return client.post("/api/tickets", headers=headers, json=body)
    return client.put(f"/api/tickets/{ticket_id}", headers=headers, json=body)


def test_an_update_overtaken_after_its_read_starts_again_from_the_new_ticket(
        app, client, catalog, waiter, monkeypatch):
    headers = bearer(waiter, "POS-1")
    ticket_id = _put_colas(client, headers, None, 1).json["id"]

    def overtake():
        r = _put_colas(client, headers, ticket_id, 3)
        assert r.status_code == 200, r.json

    reads = _overtaken_once(monkeypatch, overtake)
    r = _put_colas(client, headers, ticket_id, 5, name="Table 9b")
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["_v"], r.json["items"][0]["quantity"]) == ("Table 9b", 3, 5)
    # Read at 1 cola, overtaken (the other writer read 1 too), read again at 3.
    assert [sum(before.values()) for before in reads] == [1, 1, 3]
    db.session.expire_all()
    made = db.session.scalars(select(Order).where(Order.ticket_id == ticket_id)
                              .order_by(Order.number)).all()
    assert [o.items[0].quantity for o in made] == [1, 2, 2]
    assert [o.ticket_name for o in made] == ["Table 9", "Table 9", "Table 9b"]


@pytest.mark.parametrize("named_version", [False, True])
def test_an_update_overtaken_by_a_close_is_refused_and_writes_nothing(
        app, client, catalog, waiter, monkeypatch, named_version):
    headers = bearer(waiter, "POS-1")
    ticket_id = _put_colas(client, headers, None, 1).json["id"]

    def close():
        assert client.post(f"/api/tickets/{ticket_id}/close", headers=headers).status_code == 200

    _overtaken_once(monkeypatch, close)
    r = _put_colas(client, headers, ticket_id, 5, **({"_v": 1} if named_version else {}))
    assert r.status_code == 409, r.json
    if named_version:  # the second read finds version 2: the write named version 1
        assert r.json["errorCode"] == 6, r.json
    else:
        assert r.json["errors"][0]["memberName"] == "isClosed", r.json
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)
                             .where(Order.ticket_id == ticket_id)) == 1
    stored = client.get(f"/api/tickets/{ticket_id}", headers=headers).json
    assert (stored["isClosed"], stored["_v"], stored["items"][0]["quantity"]) == (True, 2, 1)


def test_an_update_overtaken_on_every_attempt_is_refused_and_writes_nothing(
        app, client, catalog, waiter, monkeypatch):
    from app.services import tickets

    headers = bearer(waiter, "POS-1")
    ticket_id = _put_colas(client, headers, None, 1).json["id"]

    def overtake():
        assert _put_colas(client, headers, ticket_id, 2).status_code == 200

    _overtaken_once(monkeypatch, overtake)
    monkeypatch.setattr(tickets, "UPDATE_ATTEMPTS", 1)
    # The service itself: over HTTP, Flask would run a refused update again (app.api.
    # early_tickets), here a fresh attempt that succeeds.
    with pytest.raises(Conflict, match="changed by others"):
        tickets.update_ticket(user=waiter, device=None, ticket_id=ticket_id, name="Table 9",
                              lines=[tickets.LineInput("COLA", Decimal(5))])
    db.session.rollback()
    stored = client.get(f"/api/tickets/{ticket_id}", headers=headers).json
    assert (stored["_v"], stored["items"][0]["quantity"]) == (2, 2)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)
                             .where(Order.ticket_id == ticket_id)) == 2
