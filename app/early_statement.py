"""One SQLAlchemy statement run before Flask, on the kiosk poll's own connections.

The fronts that answer before Flask (app.api.kept_lists, app.views.kept_pages) read what they
must check with one statement each. Written as SQLAlchemy expressions, it reads exactly what the
views read (the same columns, the same stamps); compiled once for the app's database, it costs
no more than the text would.
"""
from collections.abc import Callable


class EarlyStatement:
    def __init__(self, poll, build: Callable):
        """`build(dialect)` returns the statement; its bindparams are given to `read`."""
        self.poll, self.build = poll, build
        self.text: str | None = None
        self.names: tuple | None = None  # the parameters' order, for a positional driver
        self.fixed: dict = {}
        self.processors: dict = {}

    def read(self, **values) -> tuple[bool, tuple | None]:
        """(True, the first row or None); (False, None) if the database failed."""
        if self.text is None:
            self._compile(self.poll.engine_now())
        params = {**self.fixed}
        for name, value in values.items():
            processor = self.processors.get(name)
            params[name] = processor(value) if processor else value
        if self.names:
            params = tuple(params[n] for n in self.names)
        return self.poll.read(lambda: self.text, params)

    def _compile(self, engine) -> None:
        dialect = engine.dialect
        compiled = self.build(dialect).compile(dialect=dialect)
        # Values go to the driver as the engine would hand them over (a datetime on SQLite).
        self.processors = {name: bind.type.bind_processor(dialect)
                           for name, bind in compiled.binds.items()}
        self.fixed = dict(compiled.params)
        self.names = tuple(compiled.positiontup) if compiled.positional else None
        self.text = str(compiled)
