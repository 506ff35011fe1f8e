"""Pooled connections (app/db/transactions.py): how many a write request takes, and how a connection
that died while in the pool is found out before a request gets it."""
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import Ticket
from tests.conftest import bearer


@contextmanager
def counted_checkouts(engine):
    taken = []

    def checkout(*_args):
        taken.append(1)

    event.listen(engine, "checkout", checkout)
    try:
        yield taken
    finally:
        event.remove(engine, "checkout", checkout)


def test_a_ticket_update_takes_one_connection_on_postgresql(app, client, waiter, catalog):
    headers = bearer(waiter, "POS-1")
    made = client.post("/api/tickets", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 1}]}).get_json()
    db.session.remove()
    with counted_checkouts(db.engine) as taken:
        answer = client.put(f"/api/tickets/{made['id']}", headers=headers, json={
            "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["items"][0]["quantity"] == 2
    # PostgreSQL: the token's read goes on as the write transaction. SQLite ends it first, so
    # the write transaction starts with BEGIN IMMEDIATE (the write lock) on a fresh checkout.
    assert len(taken) == (1 if app.config["DB_KIND"] == "postgresql" else 2)


def test_a_write_that_fails_after_a_read_leaves_nothing_behind(app, client, waiter, catalog):
    headers = bearer(waiter, "POS-1")
    made = client.post("/api/tickets", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 1}]}).get_json()
    answer = client.put(f"/api/tickets/{made['id']}", headers=headers, json={
        "name": "Renamed", "items": [{"productCode": "NOPE", "quantity": 2}]})
    assert answer.status_code == 400  # the unknown product, found after the ticket was written
    assert answer.get_json()["errors"][0]["memberName"] == "items[0].productCode"
    db.session.remove()
    assert db.session.get(Ticket, made["id"]).name == "Table 1"
    answer = client.put(f"/api/tickets/{made['id']}", headers=headers, json={
        "name": "Renamed", "items": [{"productCode": "COLA", "quantity": 2}]})
    assert answer.status_code == 200 and answer.get_json()["name"] == "Renamed"


@pytest.mark.postgresql_only
def test_a_connection_that_died_in_the_pool_is_replaced_before_a_request_gets_it(
        app, client, waiter, catalog):
    headers = bearer(waiter, "POS-1")
    db.session.remove()
    with db.engine.connect() as connection:
        victim = connection.scalar(text("SELECT pg_backend_pid()"))
    # Checked in a moment ago, then ended by the server.
    with psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()[0]
    answer = client.post("/api/tickets", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 1}]})
    assert answer.status_code == 201, answer.get_json()
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_backend_pid()")) != victim
