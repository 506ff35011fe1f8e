"""Engine set-up for SQLite and PostgreSQL.

SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing,
foreign keys on, and write transactions (app.db.transactions) that start with BEGIN IMMEDIATE.
PostgreSQL: pooled connections are pinged before use; lock, statement and connect timeouts.
"""
import itertools
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from app.db.transactions import in_write_transaction

OPTIMIZE_EVERY = 5000  # connection check-ins between two PRAGMA optimize

# Every place a worker can wait on the database has a bound (settings in app.config):
# a lock not had in time answers 423, a statement running too long is cancelled, and a server
# that does not answer a connect, or stops answering on an open connection, gives up instead
# of holding the worker.
DEFAULT_TIMEOUTS = {"DB_LOCK_TIMEOUT": 10.0, "DB_STATEMENT_TIMEOUT": 30.0,
                    "DB_CONNECT_TIMEOUT": 5.0}


def normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str, settings: dict | None = None) -> dict:
    """The engine's options; the timeouts are read from `settings` (the app's config)."""
    timeouts = {key: float((settings or {}).get(key, default))
                for key, default in DEFAULT_TIMEOUTS.items()}
    lock, statement = timeouts["DB_LOCK_TIMEOUT"], timeouts["DB_STATEMENT_TIMEOUT"]
    if url.startswith("sqlite"):
        # SQLite's busy timeout is its lock timeout; it has no statement timeout.
        return {"connect_args": {"timeout": lock, "check_same_thread": False}}
    connect = timeouts["DB_CONNECT_TIMEOUT"]
    return {
        "pool_size": 10, "max_overflow": 20,
        # Waiting for a free pooled connection is waiting too.
        "pool_timeout": connect,
        # A pooled connection is checked before a request gets it (one round trip), so one the
        # server closed meanwhile (a restart, a terminated backend, an idle timeout) is
        # replaced instead of failing the request's first statement.
        "pool_pre_ping": True,
        "connect_args": {
            # psycopg's own preparing off: it forgets every prepared statement after a
            # ROLLBACK, which every read request ends with, so preparing would cost a round trip
            # and win nothing; and a pooler's DISCARD ALL / DEALLOCATE ALL cannot then break a
            # statement.
            "prepare_threshold": None,
            "connect_timeout": max(1, round(connect)),
            "options": f"-c lock_timeout={round(lock * 1000)}"
                       f" -c statement_timeout={round(statement * 1000)}"
                       # An open transaction left idle by a stuck worker frees its locks.
                       f" -c idle_in_transaction_session_timeout={round(statement * 2000)}",
            # A server gone silent (host down, network cut) is noticed by the kernel instead of
            # a read waiting forever: keepalives on an idle socket, and a bound on unacknowledged
            # sends.
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
            "keepalives_count": 3, "tcp_user_timeout": round((statement + connect) * 1000),
        },
    }


def install_sqlite_hooks(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # On the driver's connection: through SQLAlchemy, the BEGIN cost as much as a query.
        statement = "BEGIN IMMEDIATE" if in_write_transaction() else "BEGIN"
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.OperationalError as error:
            # Busy past the busy timeout: raised as SQLAlchemy raises the driver's errors, so it
            # meets the same handlers (423) as a lock timeout inside a statement.
            raise OperationalError(statement, None, error) from error

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
