"""Whole answers of `GET /api/orders` kept per process until anything changes.

A till or an integration asks the same list again and again, and between two changes of any
order the answer is the same text. So each process keeps the answers it gave, keyed by:

- the query string, as sent (two spellings of one query are two entries, which is harmless);
- whose orders the caller sees (everyone's, or one customer's own: app.services.orders);
- the change stamp: every change to an order writes a history line and moves it in the same
  transaction (app.services.history), deletion included;
- the stations' stamp: a station's name and isActive show in its orders and change without them.

Both stamps come in one statement, read before the page is, in the same transaction: on SQLite
one snapshot, on PostgreSQL an answer at least as new as its key. A hit costs that statement
and no parsing, no page query and no join of documents; a count, no count query.
`$include=history` is not kept (long answers, rarely asked twice). A stamp lower than one seen before means the
database was restored or wiped: everything kept is dropped. Least recently used answers go
first past LIST_CACHE_BYTES.
"""
import sys
import threading
from collections import OrderedDict

from flask import current_app, request

from app.extensions import process_cache
from app.services import orders

DEFAULT_BUDGET = 8 * 1024 * 1024
ENTRY_OVERHEAD = 300  # the slot, the key and the node, per answer


class ListCache:
    """Key -> value, least recently used first, within a byte budget; safe for threaded
    workers. Also keeps the dashboard's pages (app.views.kept_pages), whose values are not bytes:
    their size is given."""

    def __init__(self, budget: int):
        self.budget, self.size, self.highest = budget, 0, None
        self._entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, changes: int):
        with self._lock:
            if self.highest is not None and changes < self.highest:
                self._clear()
            self.highest = changes if self.highest is None else max(self.highest, changes)
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple, value, size: int | None = None) -> None:
        cost = (sys.getsizeof(value) if size is None else size) + ENTRY_OVERHEAD
        if cost > self.budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._entries[key] = (value, cost)
            self.size += cost
            while self.size > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= dropped

    def __len__(self) -> int:
        return len(self._entries)

    def _clear(self) -> None:
        self._entries.clear()
        self.size = 0


def list_cache() -> ListCache:
    """This process's cache for the current app (each app, and so each database, has its own)."""
    return process_cache(current_app, "order_lists", ListCache, "LIST_CACHE_BYTES",
                         DEFAULT_BUDGET)


def cacheable() -> bool:
    """Whether this list request's answer may be kept: not with history (long, and rare)."""
    return "$include" not in request.args


class Lookup:
    """One request's key, read once: `answer` is the kept text, or None to build it."""

    def __init__(self, user):
        changes, stations = orders.list_stamps()
        # The JSON provider's indenting too: a developer may switch it on a running app.
        self.key = (request.query_string, orders.owner_of(user), changes, stations,
                    current_app.json.compact, current_app.debug)
        self.cache = list_cache()
        self.answer = self.cache.get(self.key, changes)

    def keep(self, response):
        """Keep a built answer (a 200 with its whole body) under this request's key."""
        if response.status_code == 200 and not response.is_streamed:
            self.cache.put(self.key, response.get_data())
        return response

    def response(self):
        return current_app.response_class(self.answer, mimetype=current_app.json.mimetype)
