"""Fixtures: every test that takes `app` runs once on SQLite and once on PostgreSQL.

PostgreSQL is expected at TEST_POSTGRES_URL (default: the local server, user postgres). Each run
creates its own database and drops it afterwards. Set TEST_DATABASES=sqlite to run on SQLite
alone while developing; CI runs both.
"""
import os
import uuid
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from app import create_app
from app.extensions import db
from app.models import Device, Station
from app.services import products, stations, users

DATABASES = [d.strip() for d in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",")
             if d.strip()]
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "test-password"
# Printers and webhooks on loopback answer at once or never: short timeouts and back-offs keep
# the failure tests quick. Sending happens when a test drains the dispatcher, unless it turns
# the background sender on.
DISPATCH_CONFIG = {"DISPATCH_IN_BACKGROUND": False, "DISPATCH_CONNECT_TIMEOUT": 0.5,
                   "DISPATCH_SEND_TIMEOUT": 0.5, "DISPATCH_LEASE_SECONDS": 5,
                   "DISPATCH_RETRY_SECONDS": 0.02, "DISPATCH_MAX_ATTEMPTS": 3,
                   "DISPATCH_POLL_SECONDS": 0.05, "WEBHOOK_RETRY_SECONDS": 0.02,
                   "WEBHOOK_RETRY_MAX_SECONDS": 0.1, "WEBHOOK_RETRY_HOURS": 24}


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """Create the test databases once per run; yields {kind: url}."""
    urls, created = {}, []
    for kind in DATABASES:
        if kind == "sqlite":
            urls[kind] = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        elif kind == "postgresql":
            name = f"orders_test_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            created.append(name)
            urls[kind] = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
        else:
            raise ValueError(f"Unknown test database {kind!r}")
    yield urls
    for name in created:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

# Station health (app.services.station_health): the defaults, put back before every test.
STATION_CONFIG = {"STATION_UNWATCHED_SECONDS": 60, "STATION_FAILING_ATTEMPTS": 3,
                  "STATION_SEEN_WRITE_SECONDS": 10}


def make_app(url: str, **overrides):
    config = {"ENV": "testing", "TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
              "FAST_PASSWORD_HASH": True, "WTF_CSRF_ENABLED": False, **DISPATCH_CONFIG}
    config.update(overrides)
    return create_app(config)


def pytest_collection_modifyitems(config, items):
    """A test of a PostgreSQL feature (marked postgresql_only) is left out of the SQLite run
    rather than skipped there: nothing a database test covers is ever skipped."""
    left_out = [item for item in items if item.get_closest_marker("postgresql_only")
                and getattr(item, "callspec", None) is not None
                and item.callspec.params.get("migrated_app") == "sqlite"]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(scope="session", params=DATABASES)
def migrated_app(request, database_urls):
    app = make_app(database_urls[request.param])
    app.config["DB_KIND"] = request.param
    with app.app_context():
        upgrade()
    return app


def wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        # Every table the models know, children first; the counters row stays, reset.
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "counters"]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("UPDATE counters SET value = 0"))
    # As after restoring a database: what a process cached of the old one goes (app.caching).
    for cache in ("order_documents", "order_rows", "kiosk_cards"):
        app.extensions.pop(cache, None)


@pytest.fixture
def app(migrated_app):
    from app.dispatch.worker import dispatcher_for

    migrated_app.config.update(AUTO_PROCESS=True, **DISPATCH_CONFIG, **STATION_CONFIG)
    # Which screens this process wrote lately (app.services.station_health): a test's own.
    migrated_app.extensions.pop("station_screens_written", None)
    with migrated_app.app_context():
        yield migrated_app
        db.session.remove()
    # Senders a test started must not outlive it: the next test wipes the tables.
    dispatcher_for(migrated_app).stop()
    wipe(migrated_app)


class Client(FlaskClient):
    """A request made from the test's own thread shares the test's app context, and so its
    database session; ending that session's transaction after each request keeps the test
    from reading through a stale snapshot."""

    def open(self, *args, **kwargs):
        # Flask-Login caches the user, and Flask-WTF the signed CSRF token, on `g`, which the
        # shared app context would carry over from one client's request to another's.
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                db.session.commit()


@pytest.fixture
def client(app):
    app.test_client_class = Client
    return app.test_client()


def make_user(user_name=None, rights=(), name=None):
    user_name = user_name or f"user-{uuid.uuid4().hex[:8]}"
    return users.save_user(user_name=user_name, password=PASSWORD, name=name, rights=rights)


def bearer(user, device_name=None) -> dict:
    _, token_id, _ = users.sign_in(user_name=user.user_name, password=PASSWORD,
                                   device_name=device_name)
    return {"Authorization": f"Bearer {token_id}"}


@pytest.fixture
def catalog(app):
    """Stations Kitchen, Bar, Pass; products routed to them; device POS-1 defaulting to Pass."""
    for name in ("Kitchen", "Bar", "Pass"):
        stations.create_station(name=name)
    products.create_product(code="BURGER", name="Burger", price=Decimal("12.50"),
                            station_names=["Kitchen", "Pass"], course=2)
    products.create_product(code="FRIES", name="Fries", price=Decimal("4.00"),
                            station_names=["Kitchen"])
    products.create_product(code="COLA", name="Cola", price=Decimal("3.20"),
                            station_names=["Bar"])
    products.create_product(code="BREAD", name="Bread", price=Decimal("3.00"))
    device = Device(name="POS-1", default_station_id=db.session.scalar(
        db.select(Station.id).where(Station.name == "Pass")))
    db.session.add(device)
    db.session.commit()
    return device


@pytest.fixture
def waiter(app):
    return make_user("waiter", ["ticketCreate", "ticketUpdate"], name="Wendy")


@pytest.fixture
def manager(app):
    return make_user("manager", ["orderRead", "orderProcess", "orderUpdate", "orderDelete"])


@pytest.fixture
def admin(app):
    return make_user("admin", ["admin"])


@pytest.fixture
def customer(app):
    return make_user("customer", [])


def lines(*pairs):
    """tickets.LineInput list from ("CODE", quantity) or ("CODE", quantity, note) tuples."""
    from app.services.tickets import LineInput

    return [LineInput(p[0], Decimal(str(p[1])), p[2] if len(p) > 2 else None) for p in pairs]


def make_ticket(user, device, *pairs, name="Table 1"):
    from app.services.tickets import create_ticket

    return create_ticket(user=user, device=device, name=name, lines=lines(*pairs))


@pytest.fixture
def request_log(caplog):
    """A function answering the request log records (app.http.logs) made so far in the test."""
    import logging

    logger = logging.getLogger("app.requests")
    # Alembic's env.py disables the loggers that exist when it runs (the migrations above).
    logger.disabled = False
    caplog.set_level(logging.INFO, logger="app.requests")
    return lambda: [r for r in caplog.records if r.name == "app.requests"]


@contextmanager
def counted_statements():
    """The SQL statements run inside the block, to pin a route's query count (no N+1)."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
