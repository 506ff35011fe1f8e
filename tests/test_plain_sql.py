"""Statements run on the driver's cursor (app/plain_sql.py) write what SQLAlchemy would, inside
the session's transaction, and are seen by the statement counters."""
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, insert, select, update

from app.database import write_transaction
from app.extensions import db
from app.models import Counter
from app.order_models import Order
from app.plain_sql import Missed, OneRow, PlainStatement, pipeline
from tests.conftest import counted_statements

_ORDERS = Order.__table__
_INSERT = PlainStatement(insert(_ORDERS).values(
    {c: bindparam(c) for c in ("id", "number", "version", "source", "user_id", "user_user_name",
                               "user_name", "status", "is_processed", "is_void", "currency",
                               "sub_total", "discount_total", "shipping_total", "order_total",
                               "shipping_address", "created_at", "last_saved_at")}))
_COUNTER = PlainStatement(insert(Counter.__table__).values(
    name=bindparam("name"), value=bindparam("value")))

_BUMP = OneRow(update(Counter.__table__).where(Counter.name == bindparam("name"))
               .values(value=Counter.value + 1))


def _plain_counters(connection=None) -> dict:
    """The plain.* counters this module's tests set (a wipe leaves earlier ones at 0)."""
    statement = select(Counter.name, Counter.value).where(Counter.name.like("plain.%"),
                                                          Counter.value != 0)
    if connection is None:
        return dict(db.session.execute(statement).all())
    return dict(connection.execute(statement).all())


def _order(waiter, **more) -> dict:
    return {"id": "0190a0b0-0000-7000-8000-000000000001", "number": 9001, "version": 1,
            "source": "basket", "user_id": waiter.id, "user_user_name": waiter.user_name,
            "user_name": waiter.name, "status": "New", "is_processed": False, "is_void": True,
            "currency": "EUR", "sub_total": Decimal("12.3456"), "discount_total": Decimal("0"),
            "shipping_total": Decimal("4.95"), "order_total": Decimal("17.2956"),
            "shipping_address": {"city": "Gent", "lines": ["Kouter 1"]},
            "created_at": datetime(2026, 3, 4, 5, 6, 7, 891011),
            "last_saved_at": datetime(2026, 3, 4, 5, 6, 8)} | more


def test_values_read_back_as_the_orm_wrote_them(app, waiter):
    with write_transaction() as session:
        _INSERT.execute(session.connection(), _order(waiter))
    db.session.expire_all()
    order = db.session.get(Order, "0190a0b0-0000-7000-8000-000000000001")
    assert (order.number, order.is_void, order.is_processed) == (9001, True, False)
    assert order.sub_total == Decimal("12.3456") and order.shipping_total == Decimal("4.95")
    assert order.shipping_address == {"city": "Gent", "lines": ["Kouter 1"]}
    assert order.created_at == datetime(2026, 3, 4, 5, 6, 7, 891011)
    assert order.completed_at is None and order.note is None


def test_runs_inside_the_session_transaction(app):
    with pytest.raises(RuntimeError):
        with write_transaction() as session:
            _COUNTER.execute_many(session.connection(), [{"name": "plain.a", "value": 1},
                                                         {"name": "plain.b", "value": 2}])
            raise RuntimeError("rolled back with the rest")
    assert db.session.scalar(select(Counter).where(Counter.name.like("plain.%"))) is None
    with write_transaction() as session:
        _COUNTER.execute_many(session.connection(), [{"name": "plain.a", "value": 1},
                                                     {"name": "plain.b", "value": 2}])
    assert dict(db.session.execute(select(Counter.name, Counter.value)
                                   .where(Counter.name.like("plain.%"))).all()) == \
        {"plain.a": 1, "plain.b": 2}


def test_statement_counters_see_them(app):
    with counted_statements() as statements:
        with write_transaction() as session:
            _COUNTER.execute(session.connection(), {"name": "plain.c", "value": 3})
    assert sum("INSERT INTO counters" in s for s in statements) == 1


def test_plain_objects_are_loaded_as_the_orm_would_load_them(app, waiter):
    from app.models import Device, Token, User
    from app.plain_sql import PlainObjects
    from app.services.users import authenticate, hash_secret
    from tests.conftest import bearer

    secret = bearer(waiter, "POS-1")["Authorization"].split()[1]
    with_device = PlainObjects(
        lambda columns: columns.join_from(Token, User, Token.user_id == User.id)
        .outerjoin(Device, Token.device_id == Device.id)
        .where(Token.token_hash == bindparam("digest")), Token, User, Device)
    db.session.remove()
    session = db.session()
    token, user, device = with_device.first(session, {"digest": hash_secret(secret)})
    assert (user.user_name, device.name, token.user is user, token.device is device) == \
        ("waiter", "POS-1", True, True)
    with counted_statements() as statements:
        assert (user.rights, user.is_active, token.expires_at > token.created_at) == \
            (waiter.rights, True, True)
        session.flush()
    assert statements == []  # every column was loaded, and nothing is left to write
    # A second read hands back the session's own objects.
    assert with_device.first(session, {"digest": hash_secret(secret)})[1] is user
    assert with_device.first(session, {"digest": "unknown"}) is None
    assert authenticate(secret).user is user

    signed_in_alone = bearer(waiter)["Authorization"].split()[1]
    assert with_device.first(session, {"digest": hash_secret(signed_in_alone)})[2] is None


def test_a_one_row_update_that_finds_its_row_commits_with_the_pipeline(app):
    with write_transaction() as session:
        _COUNTER.execute(session.connection(), {"name": "plain.d", "value": 1})
    with write_transaction() as session:
        connection = session.connection()
        with pipeline(connection, commit=True):
            sent = _BUMP.execute(connection, {"name": "plain.d"})
            _COUNTER.execute(connection, {"name": "plain.e", "value": 5})
        sent.check()
        if connection.dialect.name == "postgresql":
            # Committed as the block ended: another connection sees it before the session's
            # own commit.
            with db.engine.connect() as other:
                assert _plain_counters(other) == {"plain.d": 2, "plain.e": 5}
    assert _plain_counters() == {"plain.d": 2, "plain.e": 5}


def test_a_one_row_update_that_finds_no_row_is_missed_and_nothing_after_it_is_written(app):
    with write_transaction() as session:
        _COUNTER.execute(session.connection(), {"name": "plain.k", "value": 1})
    with pytest.raises(Missed):
        with write_transaction() as session:
            connection = session.connection()
            with pipeline(connection, commit=True):
                _COUNTER.execute(connection, {"name": "plain.before", "value": 7})
                sent = _BUMP.execute(connection, {"name": "plain.nowhere"})
                _COUNTER.execute(connection, {"name": "plain.after", "value": 6})
            sent.check()
    db.session.expire_all()
    assert _plain_counters() == {"plain.k": 1}
    # The session goes on as after any rolled back transaction.
    with write_transaction() as session:
        _BUMP.execute(session.connection(), {"name": "plain.k"}).check()
    assert _plain_counters() == {"plain.k": 2}


_READ_ORDER = PlainStatement(
    select(_ORDERS.c.number, _ORDERS.c.is_void, _ORDERS.c.sub_total, _ORDERS.c.shipping_address,
           _ORDERS.c.created_at, _ORDERS.c.note).where(_ORDERS.c.id == bindparam("id")))


def test_rows_read_back_as_the_orm_reads_them(app, waiter):
    with write_transaction() as session:
        _INSERT.execute(session.connection(), _order(waiter))
    rows = _READ_ORDER.rows(db.session.connection(), {"id": _order(waiter)["id"]})
    assert rows == [(9001, True, Decimal("12.3456"), {"city": "Gent", "lines": ["Kouter 1"]},
                     datetime(2026, 3, 4, 5, 6, 7, 891011), None)]
    db.session.rollback()


def test_an_error_raised_in_the_block_writes_nothing_and_the_session_goes_on(app):
    with pytest.raises(RuntimeError):
        with write_transaction() as session:
            connection = session.connection()
            with pipeline(connection, commit=True):
                _COUNTER.execute(connection, {"name": "plain.sent", "value": 1})
                raise RuntimeError("after a statement was sent, before the COMMIT")
    db.session.expire_all()
    assert _plain_counters() == {}
    with write_transaction() as session:
        _COUNTER.execute(session.connection(), {"name": "plain.then", "value": 2})
    assert _plain_counters() == {"plain.then": 2}


@pytest.mark.postgresql_only
def test_a_statement_skipped_after_an_error_is_prepared_when_it_next_runs(app):
    """On PostgreSQL a statement is prepared on a connection the first time it is sent there
    (app.pg_wire); one that never ran, an earlier statement having failed, is not taken for
    prepared."""
    from psycopg.errors import UniqueViolation

    fresh = PlainStatement(insert(Counter.__table__).values(
        name=bindparam("name"), value=bindparam("value") + 10))
    with write_transaction() as session:
        _COUNTER.execute(session.connection(), {"name": "plain.once", "value": 1})
    with pytest.raises(UniqueViolation):
        with write_transaction() as session:
            connection = session.connection()
            with pipeline(connection, commit=True):
                _COUNTER.execute(connection, {"name": "plain.once", "value": 1})
                fresh.execute(connection, {"name": "plain.skipped", "value": 1})
    with write_transaction() as session:
        fresh.execute(session.connection(), {"name": "plain.fresh", "value": 1})
    assert _plain_counters() == {"plain.once": 1, "plain.fresh": 11}


@pytest.mark.postgresql_only
def test_statements_the_server_forgot_are_prepared_again(app):
    """Should something have made the server forget them (DEALLOCATE ALL, or a pooler's
    DISCARD ALL), the statement that finds out fails, and the next one prepares again."""
    from psycopg.errors import InvalidSqlStatementName

    with db.engine.connect() as connection:  # one connection throughout
        with connection.begin():
            _COUNTER.execute(connection, {"name": "plain.first", "value": 1})
            connection.exec_driver_sql("DEALLOCATE ALL")
        with pytest.raises(InvalidSqlStatementName):
            with connection.begin():
                _COUNTER.execute(connection, {"name": "plain.lost", "value": 1})
        with connection.begin():
            _COUNTER.execute(connection, {"name": "plain.again", "value": 1})
    assert _plain_counters() == {"plain.first": 1, "plain.again": 1}


def test_a_pipeline_larger_than_the_socket_buffers_goes_through(app):
    """Thousands of statements in one round trip: on PostgreSQL the client keeps sending while
    the server's answers come in (app.pg_wire), so neither side waits for the other."""
    rows = [{"name": f"plain.many.{i:05d}." + "x" * 20, "value": i} for i in range(20000)]
    with write_transaction() as session:
        connection = session.connection()
        with pipeline(connection, commit=True):
            _COUNTER.execute_many(connection, rows)
    assert sum(_plain_counters().values()) == sum(range(20000))
