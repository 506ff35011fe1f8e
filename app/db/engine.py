"""Engine set-up for SQLite and PostgreSQL.

SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing,
foreign keys on, and write transactions (app.db.transactions) that start with BEGIN IMMEDIATE.
PostgreSQL: idle pooled connections are pinged before use.
"""
import itertools
import sqlite3
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from app.db.transactions import in_write_transaction

OPTIMIZE_EVERY = 5000  # connection check-ins between two PRAGMA optimize
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}}
    # No pool_pre_ping: install_postgres_hooks pings only connections that sat idle.
    # psycopg's own preparing off: it forgets every prepared statement after a ROLLBACK, which
    # every read request ends with, so preparing would cost a round trip and win nothing; and
    # a pooler's DISCARD ALL cannot then break a statement.
    return {"pool_size": 10, "max_overflow": 20,
            "connect_args": {"prepare_threshold": None}}


PING_IDLE_SECONDS = 2.0


def install_postgres_hooks(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat unused for a while.

    A connection left idle may have been closed by the server (a restart, an idle timeout), so
    it is pinged, and replaced if dead, before a request gets it. One checked in moments ago was
    working then; pinging it too (pool_pre_ping) cost a round trip per checkout, a tenth of a
    millisecond, on every request. Should the server go away while connections are busy, the
    request that meets it fails and SQLAlchemy discards the whole pool, as it would anyway."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("checked_in", float("-inf")) < PING_IDLE_SECONDS:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:  # psycopg.Error, raised by the driver the engine loaded
            # The pool closes this one and tries again with a new connection.
            raise DisconnectionError("idle connection is dead") from error


def install_sqlite_hooks(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # On the driver's connection: through SQLAlchemy, the BEGIN cost as much as a query.
        connection.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if in_write_transaction() else "BEGIN")

    checkins = itertools.count(1)

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection, _record):
        # SQLite plans from statistics that nothing gathers by itself: without them a filter on
        # status sorted by date reads every order of that status. Pooled connections live long,
        # so SQLite's advice is to run PRAGMA optimize now and then (cheap when nothing changed).
        if dbapi_connection is not None and next(checkins) % OPTIMIZE_EVERY == 0:
            try:
                dbapi_connection.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # busy: the next round will do
