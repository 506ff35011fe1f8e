"""Engine set-up for SQLite and PostgreSQL, and the one way services open a write transaction.

SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing,
foreign keys on, and write transactions that start with BEGIN IMMEDIATE. Without IMMEDIATE, two
transactions that both read and then write deadlock on the lock upgrade and one fails at once with
"database is locked", whatever the busy timeout.
PostgreSQL: services lock the rows they change (SELECT ... FOR UPDATE) inside the transaction.
"""
import fcntl
import itertools
import os
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from app.extensions import db

OPTIMIZE_EVERY = 5000  # connection check-ins between two PRAGMA optimize
_immediate = ContextVar("immediate_transaction", default=False)
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
            "BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")

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


@contextmanager
def write_transaction(*, keep_loaded: bool = False):
    """Run the block as one write transaction: committed whole, or rolled back whole.

    A read transaction left open by the request (loading the signed-in user, say) is ended first,
    so the write transaction starts fresh and, on SQLite, takes the write lock at its start (on
    PostgreSQL it goes on as the write transaction, see below). Either way, changes the session
    holds unwritten are written, not dropped by the reload.
    `keep_loaded`: objects loaded before stay as they are, not reloaded on first use; for a
    caller that read what it needs before the transaction on purpose and checks inside it that
    nothing changed meanwhile (app.services.tickets claims the ticket it read).
    """
    session = db.session()
    if _immediate.get() and session.in_transaction():
        # Already inside a write transaction (app.idempotency runs a creating request in one):
        # the outer block commits. The flush gives the caller what a commit would have given,
        # generated keys and defaults, before it serialises what it wrote.
        yield session
        session.flush()
        return
    # PostgreSQL: the open read transaction goes on as the write transaction. Each statement
    # sees what was committed before it began (READ COMMITTED) whether or not the transaction
    # is new, and going on saves a commit, a checkout and a BEGIN: three round trips.
    go_on = session.in_transaction() and session.get_bind().dialect.name == "postgresql"
    if session.in_transaction() and not go_on:
        session.commit()
    elif go_on:
        session.flush()  # what the session holds unwritten goes in, as SQLite's commit does
    # Objects outlive commits here (expire_on_commit is off); rows read before this
    # transaction may be stale, so they are reloaded on first use inside it.
    if not keep_loaded:
        session.expire_all()
    token = _immediate.set(True)
    try:
        if go_on:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()
        else:
            with writers_queue(session.get_bind()), session.begin():
                yield session
    finally:
        _immediate.reset(token)


@contextmanager
def writers_queue(engine: Engine):
    """On SQLite, one write transaction at a time among this machine's processes and threads,
    queued by the kernel (an flock on a file beside the database), around BEGIN IMMEDIATE and
    its COMMIT.

    SQLite alone makes a waiting writer poll: its busy handler sleeps 1, 2, 5, 10... ms between
    tries, so a writer queued behind a 2 ms transaction wakes late, and its core idles while it
    sleeps. Behind the kernel's lock the next writer starts the moment the last one has
    committed. Each transaction opens the file afresh, so two threads of one process queue as
    two processes do (an flock belongs to the open file, not to the process), and closing it
    releases the lock even when the transaction fails. SQLite's own lock and busy timeout stay
    as they were, for any other program writing to the same file. PostgreSQL: nothing to do."""
    path = _queue_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_queue_paths: dict = {}


def _queue_path(engine: Engine) -> str | None:
    url = engine.url
    if url not in _queue_paths:
        database = url.database if engine.dialect.name == "sqlite" else None
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        _queue_paths[url] = None if in_memory else os.path.abspath(database) + "-writers"
    return _queue_paths[url]
