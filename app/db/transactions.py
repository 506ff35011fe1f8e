"""The one way services open a write transaction.

On SQLite write transactions start with BEGIN IMMEDIATE (app.db.engine). Without IMMEDIATE, two
transactions that both read and then write deadlock on the lock upgrade and one fails at once with
"database is locked", whatever the busy timeout.
PostgreSQL: services lock the rows they change (SELECT ... FOR UPDATE) inside the transaction.
"""
import fcntl
import os
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.engine import Engine

from app.extensions import db

_immediate = ContextVar("immediate_transaction", default=False)


def in_write_transaction() -> bool:
    """Whether the running code is inside write_transaction (SQLite's BEGIN is IMMEDIATE)."""
    return _immediate.get()


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
        # Already inside a write transaction (app.http.idempotency runs a creating request in one):
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
