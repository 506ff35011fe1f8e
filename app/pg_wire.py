"""Plain statements sent through PostgreSQL's client library (libpq) directly, each prepared once
per connection.

Through a psycopg cursor a statement costs about 20 µs of Python on top of what libpq does
(thirteen INSERTs and a COMMIT in one pipeline: 0.38 ms of CPU through cursors, 0.05 ms here),
and a ticket update sends about fifteen. Here a statement is prepared on a connection the first
time it runs there, and from then on sent by name with its values as text. psycopg's own C
objects still turn the values into text and the rows read back into Python values (its
Transformer), so the app gets what a cursor would have given.

Statements sent inside `exchange()` go in one round trip (libpq's pipeline mode), with a BEGIN
first when no transaction is open, as psycopg would have sent, and the COMMIT last if asked;
their results are read at its end. A statement sent outside one is an exchange of its own.

psycopg prepares statements of its own as well, and forgets all of them on the server
(DEALLOCATE ALL) after every ROLLBACK, which would take these with them: app.database turns its
preparing off on the app's connections. Should the server have forgotten one all the same
(SQLSTATE 26000), the connection's list is cleared, and the next exchange prepares again.
"""
import itertools
import select
from contextlib import contextmanager

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_names = itertools.count(1)
_LINK = "pg_wire.link"
_READY = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


def statement_name() -> bytes:
    """A name for one statement, the same on every connection of this process."""
    return b"hub_%d" % next(_names)


class NotYetRead(Exception):
    """A result read before the end of the exchange that sent it."""


class Result:
    """One statement's answer, as much of a cursor's as the app reads: ready once the
    exchange that sent it has ended."""

    def __init__(self, link: "Link"):
        self._link, self._pgresult = link, None

    def _result(self):
        if self._pgresult is None:
            raise NotYetRead("A statement's rows are read once its pipeline has ended.")
        return self._pgresult

    def fetchall(self) -> list[tuple]:
        result = self._result()
        transformer = self._link.transformer
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    @property
    def description(self) -> list[tuple]:
        """(name, type code) of each column: what SQLAlchemy's result processors ask of a
        cursor's description."""
        result = self._result()
        return [(result.fname(i), result.ftype(i)) for i in range(result.nfields)]

    @property
    def rowcount(self) -> int:
        tuples = self._result().command_tuples
        return -1 if tuples is None else tuples


class Link:
    """The libpq side of one psycopg connection: what is prepared there, and the exchange under
    way."""

    def __init__(self, driver):
        self.driver, self.pgconn = driver, driver.pgconn
        self.transformer = Transformer(driver)
        self.prepared: set[bytes] = set()
        self._sent: list | None = None  # (what was sent, its Result or None) in this exchange
        self._formats: dict[int, list] = {}

    def send(self, name: bytes, text: bytes, values: tuple, *, answer: bool = True
             ) -> Result | None:
        """Send the statement `name` (prepared as `text` if this connection has not seen it)
        with `values`; answers its Result (None when not `answer`)."""
        if self._sent is None:
            with self.exchange():
                return self.send(name, text, values, answer=answer)
        pgconn = self.pgconn
        if name not in self.prepared:
            pgconn.send_prepare(name, text)
            self._sent.append((("prepare", name), None))
            self.prepared.add(name)  # taken back at the end should the server not have it
        formats = self._formats.get(len(values))
        if formats is None:
            formats = self._formats[len(values)] = [PyFormat.TEXT] * len(values)
        params = self.transformer.dump_sequence(values, formats) if values else None
        pgconn.send_query_prepared(name, params)
        result = Result(self) if answer else None
        self._sent.append((("query", name), result))
        return result

    @contextmanager
    def exchange(self, *, commit: bool = False):
        """Send the block's statements in one round trip and read every answer at its end; the
        first error among them is raised there (the statements after it did not run). With
        `commit`, the COMMIT goes last, in the same round trip."""
        if self._sent is not None:  # already in one: the outer block ends it
            yield
            return
        pgconn = self.pgconn
        pgconn.enter_pipeline_mode()
        self._sent = []
        failed = False
        try:
            if pgconn.transaction_status == pq.TransactionStatus.IDLE \
                    and not self.driver.autocommit:
                self._command(self.driver._get_tx_start_command())
            yield
        except BaseException:
            failed = True
            raise
        finally:
            sent, self._sent = self._sent, None
            if commit and not failed:
                self._command(b"COMMIT", sent)
            try:
                error = self._finish(sent)
            finally:
                pgconn.exit_pipeline_mode()
            if error is not None and not failed:
                raise error

    def _command(self, command: bytes, sent: list | None = None) -> None:
        self.pgconn.send_query_params(command, None)
        (self._sent if sent is None else sent).append((("command", command), None))

    def _finish(self, sent: list):
        """Sync, and read the answer of everything sent; answers the first error, if any."""
        pgconn = self.pgconn
        pgconn.pipeline_sync()
        self._flush()
        error, answers = None, iter(sent)
        what, result = next(answers, (None, None))
        readable = select.poll()
        readable.register(pgconn.socket, select.POLLIN)
        while True:
            while pgconn.is_busy():
                readable.poll()
                pgconn.consume_input()
            pgresult = pgconn.get_result()
            if pgresult is None:  # the end of one statement's answer
                what, result = next(answers, (None, None))
                continue
            status = pgresult.status
            if status == pq.ExecStatus.PIPELINE_SYNC:
                return error
            if status in _READY:
                if result is not None:
                    result._pgresult = pgresult
                continue
            if what is not None and what[0] == "prepare":
                self.prepared.discard(what[1])  # not prepared after all
            if status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = errors.error_from_result(pgresult, encoding=self.driver.info.encoding)
                if isinstance(error, errors.InvalidSqlStatementName):
                    self.prepared.clear()  # the server forgot them: prepare again next time

    def _flush(self) -> None:
        """Send everything queued; the connection does not block, and the server's answers are
        taken in meanwhile so that neither side waits for the other."""
        pgconn = self.pgconn
        if not pgconn.flush():
            return
        either = select.poll()
        either.register(pgconn.socket, select.POLLIN | select.POLLOUT)
        while True:
            if any(events & select.POLLIN for _, events in either.poll()):
                pgconn.consume_input()
            if not pgconn.flush():
                return


def link(connection) -> Link:
    """The Link of a SQLAlchemy connection's psycopg connection, kept with the pooled
    connection (and made again should the pool have replaced the driver's)."""
    pooled = connection.connection
    found = pooled.info.get(_LINK)
    if found is None or found.driver is not pooled.dbapi_connection:
        found = pooled.info[_LINK] = Link(pooled.dbapi_connection)
    return found
