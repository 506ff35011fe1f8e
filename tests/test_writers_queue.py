"""Write transactions on SQLite queue on a kernel lock beside the database (app/db/transactions.py,
writers_queue) rather than on SQLite's polling busy handler; PostgreSQL needs no queue."""
import fcntl
import os
import threading

from sqlalchemy import select

from app.db.transactions import _queue_path, write_transaction
from app.extensions import db
from app.models import Counter


def _bump(app, name: str, done: list) -> None:
    """Read, add one, write: as the services do, the row locked on PostgreSQL."""
    with app.app_context():
        with write_transaction() as session:
            counter = session.scalar(select(Counter).where(Counter.name == name)
                                     .with_for_update())
            counter.value += 1
        done.append(name)
        db.session.remove()


def _counter(name: str) -> None:
    with write_transaction() as session:
        session.add(Counter(name=name, value=0))


def test_a_writer_waits_for_the_one_holding_the_queue_then_goes(app):
    path = _queue_path(db.engine)
    if db.engine.dialect.name == "postgresql":
        assert path is None  # row locks order PostgreSQL's writers (app.services)
        return
    assert path == os.path.abspath(db.engine.url.database) + "-writers"
    _counter("queued")
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as another process's writer would
    done: list = []
    writer = threading.Thread(target=_bump, args=(app, "queued", done))
    try:
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and done == []  # queued behind the holder, nothing written
    finally:
        os.close(holder)
    writer.join(30)
    assert done == ["queued"]
    db.session.commit()
    assert db.session.scalar(select(Counter.value).where(Counter.name == "queued")) == 1


def test_many_writers_in_threads_lose_no_update(app):
    _counter("together")
    done: list = []
    writers = [threading.Thread(target=_bump, args=(app, "together", done)) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert len(done) == 8
    db.session.commit()
    assert db.session.scalar(select(Counter.value).where(Counter.name == "together")) == 8


def test_a_failed_transaction_leaves_the_queue_free(app):
    try:
        with write_transaction() as session:
            session.add(Counter(name="failing", value=1))
            raise RuntimeError("the service refused")
    except RuntimeError:
        pass
    _counter("after")
    done: list = []
    _bump(app, "after", done)
    assert done == ["after"]


def test_a_change_left_unwritten_before_a_write_transaction_is_written_by_it(app):
    """On SQLite the read transaction is committed first, on PostgreSQL it goes on as the write
    transaction: either way what the session held goes in, never dropped by the reload."""
    _counter("held.before")
    counter = db.session.scalar(select(Counter).where(Counter.name == "held.before"))
    counter.value = 7  # not flushed: no query since
    with write_transaction() as session:
        session.add(Counter(name="held.inside", value=1))
    db.session.remove()
    assert dict(db.session.execute(select(Counter.name, Counter.value).where(
        Counter.name.like("held.%"))).all()) == {"held.before": 7, "held.inside": 1}
