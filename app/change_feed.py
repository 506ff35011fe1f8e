"""What changed, heard rather than asked: one LISTEN connection per server process (PostgreSQL).

The kiosk's idle poll (app.kiosk_poll) needs two facts per poll: the change counter, and
whether the screen's kiosk link is live and for which station. Reading them costs a round trip
to the database per poll, most of the poll's time. Migration 0012 has PostgreSQL notify on
every commit that moves the counter (with its new value) and on every change to kiosk links or
stations; a thread of each process listens and keeps both facts in memory.

Why it is exact: the thread LISTENs first and then reads the counter, so no commit falls
between; notifications arrive after their commit, in commit order. It reads the counter again
every CHECK_EVERY seconds, which proves the connection alive (and corrects a counter that was
set back, as a restore or a test's wipe does). A feed that has not proved itself within
TRUSTED_FOR is not trusted, and the poll asks the database as before. On any error the thread
forgets everything and connects again, backing off.

Cached links are dropped on every notification about links or stations, and whenever the feed
loses its connection. A lookup that raced with such a drop is not stored: `generation` is taken
before the lookup and `remember` refuses a result from an older generation.
"""
import logging
import math
import os
import threading
import time

import psycopg
from sqlalchemy.engine import URL

from app.services.history import CHANGES

log = logging.getLogger(__name__)

# The channels migration 0012 notifies on.
CHANGES_CHANNEL = "orders_changes"
LINKS_CHANNEL = "kiosk_links"
READ_STAMP = f"SELECT COALESCE((SELECT value FROM counters WHERE name = '{CHANGES}'), 0)"
CHECK_EVERY = 1.0  # seconds between two reads of the counter on the listening connection
TRUSTED_FOR = 2.0  # seconds since the last read after which the feed is not believed
RETRY_FIRST, RETRY_MAX = 0.1, 5.0  # back-off between connection attempts, doubling
CONNECT_TIMEOUT = 5  # seconds
# A socket whose sent data stays unacknowledged this long is given up (a vanished network),
# rather than leaving the thread waiting for the kernel's own, far longer, limit.
TCP_USER_TIMEOUT_MS = 10_000
LINKS_SIZE = 1024  # cached links per process; a wall has a few screens


def conninfo(url: URL) -> str:
    """A libpq connection string from the engine's URL (its `+psycopg` driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeFeed:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self.stamp = 0  # the change counter, as last heard
        # link id -> (station id or None for expo, station name) for a live link, None for a
        # revoked or unknown one. Replaced whole, never cleared in place, so a reader holding
        # the old dict is never surprised.
        self.links: dict[int, tuple | None] = {}
        self.generation = 0  # moves on every drop of `links`
        self.confirmed_at = -math.inf  # time.monotonic() of the last successful read
        self.backend_pid: int | None = None  # the listening connection's server process
        self._lock = threading.RLock()  # start() drops links while holding it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    @property
    def healthy(self) -> bool:
        return time.monotonic() - self.confirmed_at < TRUSTED_FOR

    def start(self) -> None:
        """Listen in a background thread of this process (once; again in a forked child,
        which inherits the object but not the thread)."""
        with self._lock:
            if self._pid != os.getpid():
                # The parent's connection is left alone: psycopg does not close a connection
                # in a process other than the one that opened it.
                self._pid, self._thread = os.getpid(), None
                self._lose()
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                            name="change-feed", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = CHECK_EVERY + 1) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self._lose()

    def remember(self, link_id: int, link: tuple | None, generation: int) -> None:
        """Keep a link looked up while `generation` was current, unless links changed since."""
        with self._lock:
            if generation != self.generation or not self.healthy:
                return
            if len(self.links) >= LINKS_SIZE:
                self.links = {}
            self.links[link_id] = link

    # --- the listening thread ---------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        delay = RETRY_FIRST
        while not stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                     tcp_user_timeout=TCP_USER_TIMEOUT_MS) as connection:
                    self._listen(connection, stop)
                    delay = RETRY_FIRST
                    while not stop.is_set():
                        for notify in connection.notifies(timeout=CHECK_EVERY):
                            self._hear(notify)
                        if not stop.is_set():
                            self._read(connection)
            except Exception:  # the thread must outlive any failure; the poll falls back
                if not stop.is_set():
                    log.warning("change feed: connection lost; polls read the database",
                                exc_info=True)
            self._lose()
            stop.wait(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _listen(self, connection, stop: threading.Event) -> None:
        connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        connection.execute(f"LISTEN {LINKS_CHANNEL}")
        self.backend_pid = connection.info.backend_pid
        # Links cached before now may have changed unheard.
        self._drop_links()
        if not stop.is_set():
            self._read(connection)

    def _read(self, connection) -> None:
        """The counter as committed now; it also proves the connection is alive."""
        self.stamp = connection.execute(READ_STAMP).fetchone()[0]
        self.confirmed_at = time.monotonic()

    def _hear(self, notify) -> None:
        if notify.channel == CHANGES_CHANNEL:
            # The largest: a read may have seen commits whose notifications come after it.
            self.stamp = max(self.stamp, int(notify.payload))
        elif notify.channel == LINKS_CHANNEL:
            self._drop_links()

    def _drop_links(self) -> None:
        with self._lock:
            self.generation += 1
            self.links = {}

    def _lose(self) -> None:
        self.confirmed_at = -math.inf
        self.backend_pid = None
        self._drop_links()
