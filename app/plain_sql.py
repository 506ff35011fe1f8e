"""SQLAlchemy statements run on the driver, compiled once per database.

Through SQLAlchemy's `Connection.execute` a statement costs about 85 µs of Python before the
driver sees it (a cache key built by walking the statement, the parameters processed one by one,
a result object set up); the same text run on the driver's cursor costs about 15, and on
PostgreSQL, prepared and sent through libpq directly (app.pg_wire), a few. Creating an order
writes a dozen rows, so the hot write paths (app.services.order_rows, app.services.ticket_rows)
run their statements here: written as SQLAlchemy expressions, compiled by the app's dialect,
their values converted by the column types' own bind processors, so what reaches the database is
what `Connection.execute` would have sent, on the same connection and in the same transaction.

On PostgreSQL a run of statements that need no answer before the next one can go in one round
trip (`pipeline`), the transaction's COMMIT with them; their answers are read once the block
ends. An UPDATE that must find its row (`OneRow`) fails there when it does not, so that nothing
after it, the COMMIT included, takes effect.

Only plain statements qualify: no expanding IN lists (their text depends on the values), and
an INSERT names its columns with bind parameters (`.values(name=bindparam(...))`): no column
default is applied here, and a key column left out must stay out of the text.
"""
import re
from contextlib import contextmanager

from psycopg.errors import DivisionByZero
from sqlalchemy import func, inspect, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import make_transient_to_detached

from app import pg_wire

_PYFORMAT = re.compile(r"%%|%\((\w+)\)s")


class PlainStatement:
    def __init__(self, statement):
        self.statement = statement
        # dialect name -> (text, positional or not, names, plan, the result columns' types)
        self._compiled: dict = {}
        self._results: dict = {}  # dialect name -> the result columns' processors
        self.name = pg_wire.statement_name()
        self._wire = None  # PostgreSQL: (text with $1 for libpq, plan in that order)

    def _for(self, dialect):
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self.statement.compile(dialect=dialect)
            names = done.positiontup if done.positional else list(done.binds)
            # Per parameter, in the driver's order: its name, its type's bind processor (None
            # when the driver takes the value as it is) and its value when none is given.
            plan = [(name, done.binds[name].type._cached_bind_processor(dialect),
                     done.params.get(name)) for name in names]
            compiled = (str(done), done.positional, names, plan,
                        [column.type for column in done._result_columns])
            self._compiled[dialect.name] = compiled
        return compiled

    def text_and_params(self, dialect, values: dict | None = None) -> tuple[str, object]:
        """The statement's text for this database, and `values` as its driver takes them
        (converted by the columns' types, in order for a positional driver)."""
        text, positional, names, plan, _ = self._for(dialect)
        values = values or {}
        converted = []
        for name, processor, default in plan:
            value = values.get(name, default)
            converted.append(value if processor is None else processor(value))
        return text, tuple(converted) if positional else dict(zip(names, converted))

    def _wire_of(self, dialect) -> tuple[bytes, list]:
        """The text libpq takes ($1, $2...), and the plan of its values in that order."""
        if self._wire is None:
            text, _, names, plan, _ = self._for(dialect)
            escaped = self.statement.compile(dialect=dialect).escaped_bind_names
            by_name = {escaped.get(name, name): step for name, step in zip(names, plan)}
            order: list = []

            def number(match):
                if match.group(1) is None:
                    return "%"
                if match.group(1) not in order:
                    order.append(match.group(1))
                return f"${order.index(match.group(1)) + 1}"
            wire_text = _PYFORMAT.sub(number, text).encode()
            self._wire = (wire_text, [by_name[name] for name in order])
        return self._wire

    def _send(self, connection: Connection, values: dict | None, *, answer: bool,
              wire: "pg_wire.Link | None" = None):
        """PostgreSQL: send through libpq (app.pg_wire); answers its Result if `answer`.
        `wire`: the connection's Link, when the caller has it (and has announced the
        statement)."""
        text, plan = self._wire_of(connection.dialect)
        get = (values or {}).get
        params = tuple([get(name, default) if processor is None
                        else processor(get(name, default))
                        for name, processor, default in plan])
        if wire is None:
            _announce(connection, None, text, params, False)
            wire = pg_wire.link(connection)
        return wire.send(self.name, text, params, answer=answer)

    def execute(self, connection: Connection, values: dict | None = None):
        """Run once; answers the driver's cursor (rows of RETURNING, unconverted), on
        PostgreSQL a pg_wire.Result, read as a cursor is."""
        if connection.dialect.name == "postgresql":
            return self._send(connection, values, answer=True)
        text, params = self.text_and_params(connection.dialect, values)
        cursor = _cursor(connection)
        _announce(connection, cursor, text, params, False)
        cursor.execute(text, params)
        return cursor

    def run(self, connection: Connection, values: dict | None = None) -> None:
        """Run once, for a write whose answer nobody reads."""
        if connection.dialect.name == "postgresql":
            self._send(connection, values, answer=False)
            return
        self.execute(connection, values)

    def rows(self, connection: Connection, values: dict | None = None) -> list[tuple]:
        """Run once; answers every row, its values converted by the selected columns' types as
        SQLAlchemy's result would (a datetime from SQLite's text, a Decimal from its float)."""
        return self.send(connection, values).rows()

    def send(self, connection: Connection, values: dict | None = None) -> "Sent":
        """Run once, its rows read later: in a `pipeline`, once the block has ended, so that
        several reads share one round trip."""
        return Sent(self, connection.dialect, self.execute(connection, values))

    def _rows_of(self, dialect, cursor) -> list[tuple]:
        rows = cursor.fetchall()
        processors = self._results.get(dialect.name)
        if processors is None:
            # The driver's type code of each column, as SQLAlchemy passes it (psycopg's OIDs).
            processors = [type_._cached_result_processor(dialect, described[1])
                          for type_, described in zip(self._for(dialect)[4],
                                                      cursor.description)]
            self._results[dialect.name] = processors
        if not any(processors):
            return rows
        return [tuple(p(v) if p else v for p, v in zip(processors, row)) for row in rows]

    def execute_many(self, connection: Connection, rows: list[dict]) -> None:
        """Run once per row of values: on PostgreSQL in one round trip, on SQLite in one call
        to the driver."""
        dialect = connection.dialect
        if dialect.name == "postgresql":
            _announce(connection, None, self._wire_of(dialect)[0], rows, True)
            wire = pg_wire.link(connection)
            with wire.exchange():
                for row in rows:
                    self._send(connection, row, answer=False, wire=wire)
            return
        text = self._for(dialect)[0]
        params = [self.text_and_params(dialect, row)[1] for row in rows]
        cursor = _cursor(connection)
        _announce(connection, cursor, text, params, True)
        cursor.executemany(text, params)


class Sent:
    """A statement sent (`PlainStatement.send`), its rows still to be read."""

    def __init__(self, statement: PlainStatement, dialect, cursor):
        self.statement, self.dialect, self.cursor = statement, dialect, cursor

    def rows(self) -> list[tuple]:
        return self.statement._rows_of(self.dialect, self.cursor)


class Missed(Exception):
    """An update of `OneRow` found no row to change."""


class OneRow:
    """An UPDATE of one row that must find it (a ticket claimed at the version read, say).

    On SQLite it runs as it is, and `check` raises Missed when it changed no row. On PostgreSQL
    it runs inside a statement that divides by the number of rows it changed: finding none is an
    error, which in a `pipeline` skips every statement sent after it, the COMMIT included, and
    which the pipeline raises as Missed at its end."""

    def __init__(self, update):
        self.plain = PlainStatement(update)
        changed = update.returning(literal(1)).cte("changed")
        # No statement of the hub divides otherwise: a division by zero is this miss.
        self.or_fail = PlainStatement(select(literal(1) / func.count()).select_from(changed))

    def execute(self, connection: Connection, values: dict) -> "OneRowSent":
        if connection.dialect.name == "postgresql":
            return OneRowSent(self.or_fail.execute(connection, values), checked=True)
        return OneRowSent(self.plain.execute(connection, values), checked=False)


class OneRowSent:
    """A `OneRow` update sent; `checked` when the database itself refuses a miss."""

    def __init__(self, cursor, *, checked: bool):
        self.cursor, self.checked = cursor, checked

    def check(self) -> None:
        """Raise Missed if the update changed no row (on PostgreSQL, the pipeline did)."""
        if not self.checked and self.cursor.rowcount != 1:
            raise Missed


@contextmanager
def pipeline(connection: Connection, *, commit: bool = False):
    """On PostgreSQL, send the block's statements without waiting for each answer, and wait for
    all of them at its end: one round trip instead of one each. A cursor's rows and rowcount
    are read after the block. On SQLite, where there is no round trip, the block runs as is.
    An error in any statement is raised at the end of the block, and the ones after it do not
    run; the caller's transaction then rolls back as it would have.

    `commit`: on PostgreSQL the COMMIT goes last in the same round trip, so the transaction's
    locks are let go the moment its last statement has run, not a round trip later. The block
    must be the transaction's last writes; once it ends without error they are committed, and
    the session's own commit finds nothing left to do. On SQLite the session commits as
    usual."""
    if connection.dialect.name != "postgresql":
        yield
        return
    try:
        with pg_wire.link(connection).exchange(commit=commit):
            yield
    except DivisionByZero as error:
        raise Missed from error


def _cursor(connection: Connection):
    # The DBAPI connection of the SQLAlchemy connection, inside its open transaction.
    return connection.connection.driver_connection.cursor()


def _announce(connection: Connection, cursor, text, params, many: bool) -> None:
    """Tell the engine's before_cursor_execute listeners, as SQLAlchemy would: the tests that
    pin a route's statements count these too."""
    if connection._has_events or connection.engine._has_events:
        if isinstance(text, bytes):  # libpq's text (app.pg_wire)
            text = text.decode()
        connection.dispatch.before_cursor_execute(connection, cursor, text, params, None, many)


class PlainObjects:
    """Whole rows of some models read with one plain statement and handed to the session as
    loaded objects, as the ORM would have loaded them (every column; relationships load when
    first read). For a read every request makes, where the ORM's loading cost several times the
    statement: the signed-in token with its user and device (app.services.users)."""

    def __init__(self, joined, *models):
        """`joined(select)` adds the joins and conditions to a select of the models' columns,
        in the order given; a model left out by an outer join comes back as None."""
        self.models = models
        self.keys = [[a.key for a in inspect(m).column_attrs] for m in models]
        columns = [c for m in models for a in inspect(m).column_attrs for c in a.columns[:1]]
        self.statement = PlainStatement(joined(select(*columns)))

    def first(self, session, values: dict) -> tuple | None:
        rows = self.statement.rows(session.connection(), values)
        if not rows:
            return None
        row, start, found = rows[0], 0, []
        for model, keys in zip(self.models, self.keys):
            part = dict(zip(keys, row[start:start + len(keys)]))
            start += len(keys)
            found.append(_loaded(session, model, part))
        return tuple(found)


def _loaded(session, model, values: dict):
    # The key columns' attributes bear their names in these models (id).
    identity = tuple(values[c.key] for c in inspect(model).primary_key)
    if all(v is None for v in identity):
        return None  # an outer join found nothing
    held = session.identity_map.get(session.identity_key(model, identity))
    if held is not None:
        return held  # the session's own, possibly with changes of its own: kept as it is
    obj = model(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
