"""One SQLAlchemy statement run before Flask, on the kiosk poll's own connections.

The fronts that answer before Flask (app.api.kept_lists, app.views.kept_pages) read what they
must check with one statement each. Written as SQLAlchemy expressions, it reads exactly what the
views read (the same columns, the same stamps); compiled once for the app's database, it costs
no more than the text would.
"""
from collections.abc import Callable

from app.plain_sql import PlainStatement


class EarlyStatement:
    def __init__(self, poll, build: Callable):
        """`build(dialect)` returns the statement; its bindparams are given to `read`."""
        self.poll, self.build = poll, build
        self.plain: PlainStatement | None = None

    def read(self, **values) -> tuple[bool, tuple | None]:
        """(True, the first row or None); (False, None) if the database failed."""
        dialect = self.poll.engine_now().dialect
        if self.plain is None:
            self.plain = PlainStatement(self.build(dialect))
        # Values go to the driver as the engine would hand them over (a datetime on SQLite).
        text, params = self.plain.text_and_params(dialect, values)
        return self.poll.read(lambda: text, params)
