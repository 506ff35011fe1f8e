"""Database faults as a request meets them (app/db/errors.py, app/db/engine.py): a pooler's
DEALLOCATE ALL, a backend terminated in the pool or in the middle of a request, a row lock held
past the lock timeout, a statement past the statement timeout. Each gives a working answer or a
problem+json 423/503, never a bare 500, and nothing is written twice."""
import sqlite3

import psycopg
import pytest
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Order, Ticket
from tests.conftest import Client, bearer, make_app, make_ticket
from tests.web.helpers import sign_in

TICKET = {"name": "Table 1", "items": [{"productCode": "COLA", "quantity": 1}]}


def driver_url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def terminate_other_backends(engine) -> int:
    """End every connection to the test database but this one: all the app's pooled ones."""
    with psycopg.connect(driver_url(engine), autocommit=True) as other:
        return len(other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


def assert_problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == status and body["traceId"]
    assert "Traceback" not in answer.get_data(as_text=True)
    assert answer.headers["X-Request-Id"] == body["traceId"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    return body


def tickets_named(name: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.name == name))


@pytest.mark.postgresql_only
def test_deallocate_all_on_every_checkout_breaks_no_request(app, client, waiter, manager,
                                                             catalog):
    # What a transaction pooler's DISCARD ALL does to prepared statements, done to every
    # connection each time a request takes it.
    def discard(dbapi_connection, _record, _proxy):
        dbapi_connection.execute("DEALLOCATE ALL")
        dbapi_connection.rollback()

    headers, reader = bearer(waiter, "POS-1"), bearer(manager)
    event.listen(db.engine, "checkout", discard)
    try:
        for _ in range(3):  # more than once per connection
            made = client.post("/api/tickets", headers=headers, json=TICKET)
            assert made.status_code == 201, made.get_json()
            ticket = made.get_json()
            changed = client.put(f"/api/tickets/{ticket['id']}", headers=headers, json={
                "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]})
            assert changed.status_code == 200, changed.get_json()
            listed = client.get("/api/orders?status=New", headers=reader)
            assert listed.status_code == 200, listed.get_json()
            order_id = listed.get_json()["items"][0]["id"]
            moved = client.post(f"/api/orders/{order_id}/status", headers=reader,
                                json={"status": "Processing"})
            assert moved.status_code == 200, moved.get_json()
            assert client.get("/api/auth", headers=reader).status_code == 200
    finally:
        event.remove(db.engine, "checkout", discard)


@pytest.mark.postgresql_only
def test_requests_after_the_server_ended_every_pooled_connection_succeed(app, client, manager,
                                                                          catalog):
    headers = bearer(manager)
    for _ in range(3):  # fill the pool with connections used a moment ago
        assert client.get("/api/orders", headers=headers).status_code == 200
    db.session.remove()
    assert terminate_other_backends(db.engine) >= 1
    assert client.get("/health").status_code == 200
    answers = [client.get("/api/orders?status=New", headers=headers).status_code
               for _ in range(20)]
    assert answers == [200] * 20


@pytest.mark.postgresql_only
def test_a_connection_lost_mid_request_answers_503_and_writes_nothing(app, client, waiter,
                                                                      catalog):
    headers = bearer(waiter, "POS-1")
    victims = []

    def end_own_backend(connection, _cursor, statement, *_args):
        # The server goes away between the request's reads and its first write.
        if statement.lstrip().upper().startswith("INSERT INTO TICKETS") and not victims:
            pid = connection.connection.driver_connection.info.backend_pid
            with psycopg.connect(driver_url(db.engine), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            victims.append(pid)

    event.listen(db.engine, "before_cursor_execute", end_own_backend)
    try:
        lost = client.post("/api/tickets", headers=headers, json={**TICKET, "name": "Lost"})
    finally:
        event.remove(db.engine, "before_cursor_execute", end_own_backend)
    assert victims
    body = assert_problem(lost, 503)
    assert body["errorCode"] == 5 and lost.headers["Retry-After"] == "1"
    assert tickets_named("Lost") == 0
    # The client retries: one ticket, and the pool works again.
    again = client.post("/api/tickets", headers=headers, json={**TICKET, "name": "Lost"})
    assert again.status_code == 201, again.get_json()
    assert tickets_named("Lost") == 1


@pytest.mark.postgresql_only
def test_a_page_that_loses_its_connection_answers_a_503_page(app, waiter, manager, catalog):
    make_ticket(waiter, catalog, ("COLA", 1))
    app.test_client_class = Client
    client = sign_in(app.test_client(), manager)
    fired = []

    def end_own_backend(connection, _cursor, statement, *_args):
        if "FROM orders" in statement and not fired:
            pid = connection.connection.driver_connection.info.backend_pid
            with psycopg.connect(driver_url(db.engine), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            fired.append(pid)

    event.listen(db.engine, "before_cursor_execute", end_own_backend)
    try:
        page = client.get("/orders")
    finally:
        event.remove(db.engine, "before_cursor_execute", end_own_backend)
    assert fired
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "1"
    assert "Try again in a moment" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    assert client.get("/orders").status_code == 200


@pytest.fixture
def impatient(migrated_app):
    """A second app on the same database whose waits are short."""
    made = []

    def make(**timeouts):
        other = make_app(migrated_app.config["SQLALCHEMY_DATABASE_URI"], **timeouts)
        other.test_client_class = Client
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def hold_row_lock(app, order_id: str):
    """Another program holding the order's row (PostgreSQL) or the write lock (SQLite)."""
    url = db.engine.url
    if db.engine.dialect.name == "postgresql":
        holder = psycopg.connect(driver_url(db.engine))
        holder.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE", (order_id,))
        return holder
    holder = sqlite3.connect(url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_row_lock_held_past_the_lock_timeout_answers_423_and_changes_nothing(
        app, waiter, manager, catalog, impatient):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)
    db.session.commit()
    holder = hold_row_lock(app, order.id)
    other = impatient(DB_LOCK_TIMEOUT=0.3)
    try:
        with other.app_context():
            answer = other.test_client().post(f"/api/orders/{order.id}/status", headers=headers,
                                              json={"status": "Processing"})
            body = assert_problem(answer, 423)
            assert body["errorCode"] == 5
    finally:
        holder.rollback()
        holder.close()
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "New"
    with other.app_context():
        answer = other.test_client().post(f"/api/orders/{order.id}/status", headers=headers,
                                          json={"status": "Processing"})
        assert answer.status_code == 200, answer.get_json()
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "Processing"


@pytest.mark.postgresql_only
def test_a_statement_past_the_statement_timeout_answers_503(app, waiter, manager, catalog,
                                                            impatient):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)
    db.session.commit()
    holder = hold_row_lock(app, order.id)
    # The lock wait is allowed longer than the statement: the statement timeout fires first.
    other = impatient(DB_LOCK_TIMEOUT=30, DB_STATEMENT_TIMEOUT=0.3)
    try:
        with other.app_context():
            answer = other.test_client().post(f"/api/orders/{order.id}/status", headers=headers,
                                              json={"status": "Processing"})
            assert_problem(answer, 503)
            assert answer.headers["Retry-After"] == "1"
    finally:
        holder.rollback()
        holder.close()
    db.session.rollback()
    assert db.session.get(Order, order.id).status == "New"


def test_the_timeouts_reach_the_connections(app):
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            assert connection.scalar(text("SHOW lock_timeout")) == "10s"
            assert connection.scalar(text("SHOW statement_timeout")) == "30s"
    else:
        with db.engine.connect() as connection:
            assert connection.scalar(text("PRAGMA busy_timeout")) == 10000
