"""Each order's JSON made once per change of the order, not once per read.

A list of orders mostly answers orders that have not changed since it last answered them, and
building their ORM objects and serialising them was most of its time. Each process keeps the
serialised text of the orders it answered, keyed by what identifies the state a text shows:

- the order's version and last save: every change to the order, its items, entries and cells
  bumps its `_v` and sets `last_saved_at` in the same transaction (the time also tells apart an
  order rewritten in place with the same version, as the seeders and tests do);
- the stations' version (app.services.orders.station_stamp): a station's name and isActive show
  in every order routed to it and change without touching those orders.

A list then reads the keys of its page (stamp included), and loads and serialises only the orders
not cached in that state, in one batch. Keys are read before the rows they describe, so a text is
never older than its key (at worst newer, when a change lands in between: its key then no longer
matches the next read). Least recently used texts go first when the process holds more than the
app setting ORDER_DOCUMENT_BYTES (DEFAULT_BUDGET when unset; a worker must stay well under
150 MB: paging through 20,000 orders a thousand at a time, one grew from 87 to 129 MB, 110 of
them without any cache). `$include=history` is not cached.
"""
import sys
import threading
from collections import OrderedDict

from flask import current_app

from app.extensions import process_cache
from app.services import orders

DEFAULT_BUDGET = 16 * 1024 * 1024  # about 10,000 orders
ENTRY_OVERHEAD = 200  # the dict slot, the key tuple and the node of the order, per text


class DocumentCache:
    """Order id -> (key, text), least recently used first; safe for threaded workers."""

    def __init__(self, budget: int):
        self.budget, self.size = budget, 0
        self._entries: OrderedDict[str, tuple[tuple, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keyed: list[tuple[str, tuple]]) -> list[str | None]:
        """The text of each (order id, key), None where none is held in that state."""
        found = []
        with self._lock:
            for order_id, key in keyed:
                entry = self._entries.get(order_id)
                if entry is None or entry[0] != key:
                    found.append(None)
                else:
                    self._entries.move_to_end(order_id)
                    found.append(entry[1])
        return found

    def put(self, order_id: str, key: tuple, text: str) -> None:
        cost = sys.getsizeof(text) + ENTRY_OVERHEAD
        if cost > self.budget:
            return
        with self._lock:
            old = self._entries.pop(order_id, None)
            if old is not None:
                self.size -= sys.getsizeof(old[1]) + ENTRY_OVERHEAD
            self._entries[order_id] = (key, text)
            self.size += cost
            while self.size > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= sys.getsizeof(dropped) + ENTRY_OVERHEAD

    def get_or_load(self, keyed: list[tuple[str, tuple]], make, scope: str = "") -> list[str]:
        """The text of each (order id, key), in that order; the orders not held in that state
        loaded in one batch and made into text by `make(order)`, and kept. Texts of one order
        made in different ways (a row with a checkbox, one without) are held apart by `scope`,
        so neither pushes the other out."""
        texts = self.get_many([(order_id + scope, key) for order_id, key in keyed])
        missing = [i for i, text in enumerate(texts) if text is None]
        if missing:
            loaded = orders.load_orders([keyed[i][0] for i in missing])
            for i in missing:
                order_id, key = keyed[i]
                texts[i] = make(loaded[order_id])
                self.put(order_id + scope, key, texts[i])
        return texts

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


def document_cache() -> DocumentCache:
    """This process's cache for the current app (each app, and so each database, has its own)."""
    return process_cache(current_app, "order_documents", DocumentCache, "ORDER_DOCUMENT_BYTES",
                         DEFAULT_BUDGET)


def order_documents(keys: list, serialize) -> list[str]:
    """The text of each order of `keys` (rows of orders.list_order_keys), in that order, as
    `serialize(order)` makes it (the API's compact JSON)."""
    if not keys:
        return []
    cache = document_cache()
    # Every row carries the same stations stamp: the keys share one copy of it.
    stations = keys[0][3]
    keyed = [(row[0], (row[1], row[2], stations)) for row in keys]
    return cache.get_or_load(keyed, serialize)
