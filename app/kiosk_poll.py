"""The kiosk's idle poll, answered before Flask (bench/README.md, "What was changed", 7).

A wall screen signed in by a kiosk link asks `GET /kiosk/<station>?stamp=N` under htmx every
second, and nearly always hears 204: nothing changed. Through Flask that costs a request
context, the session, Flask-Login, two ORM statements and every before/after hook: about a
millisecond for an empty answer, on every screen, all day. Here it costs the session cookie
checked with Flask's own serializer and at most one statement (below).

The rule: answer 204 only where the view would, and let the view decide everything else. So
anything this module is not sure of goes on to Flask untouched: another method, path or query;
a request that is not a plain htmx fragment request; a person's session or a remember cookie;
a cookie that does not verify, has expired or is due to be re-set; a revoked or unknown link;
a station that is not the link's own; a stamp that is not current; a database error. The view
then redraws, or refuses, exactly as before.

What the view would also do, done here the same way: the link and the change counter are
current on every poll (revoking a link stops its screen at its next poll), the answer carries
the same headers (security headers, Vary, no-store, X-Request-Id) and the request is logged as
one line.

What it skips: re-setting the session cookie on every poll. A cookie older than REFRESH_AFTER
goes through Flask once, which re-sets it, so a screen that never sees a change stays signed in.

Where the two facts come from. On SQLite, and on PostgreSQL while this process's change feed
is not healthy (app.change_feed: not yet connected, connection lost, not heard from lately),
one statement reads both per poll. On PostgreSQL with a healthy feed, none: the change counter
is the one the feed last heard, and the link is the feed's cached copy, looked up (the link
alone) when not cached. PostgreSQL notifies the feed after each commit, so an answer from memory
may lag a commit by the notification's delivery, a few milliseconds: the same answer the poll
would have had arriving that much earlier, and the screen's next poll sees the change. Revoking
a link, or renaming or deleting a station, drops every cached link as soon as the notification
is heard, so the next poll looks the link up again and goes to the view, which refuses (or,
for a renamed station, draws the screen under its new name).
"""
import logging
import os
import re
import threading
import time
from datetime import datetime

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.routing import RequestRedirect

from app.change_feed import ChangeFeed, conninfo
from app.dispatch.worker import dispatcher_for
from app.extensions import db
from app.logs import early_request_id, log_early_answer, request_log
from app.security import HSTS, SECURITY_HEADERS, is_https
from app.services.history import CHANGES
from app.services.kiosk_links import EXPO

# A first sieve before the router is asked: one path segment under /kiosk/. A NUL never goes
# further (PostgreSQL cannot compare one; the app answers 404 for it).
PATH = re.compile(r"/kiosk/[^/\x00]+\Z")
# Exactly what the screen's poll sends; anything more (a link's key=...) is the view's.
QUERY = re.compile(r"stamp=([0-9]{1,18})\Z")
SCREENS = {"kiosk.station", "kiosk.expo"}  # the endpoints whose poll this answers
REFRESH_AFTER = 3600  # seconds; see the module docstring
MEMO_SIZE = 1024  # remembered cookies and paths per worker; a wall has a few screens
MAX_IDLE = 8  # connections kept for the poll per process: one per thread that serves at once

# The link if it is live: its station's id (None for the expo) and name.
LIVE_LINK = ("kiosk_links.station_id, stations.name FROM kiosk_links "
             "LEFT JOIN stations ON stations.id = kiosk_links.station_id "
             "WHERE kiosk_links.id = ? AND kiosk_links.revoked_at IS NULL")
# The change counter, and the link if it is live, in one statement.
POLL = ("SELECT COALESCE((SELECT value FROM counters WHERE name = '" + CHANGES + "'), 0), "
        + LIVE_LINK)
# The link alone, when the change feed knows the counter.
LINK = "SELECT " + LIVE_LINK
NOT_CACHED = object()

log = logging.getLogger(__name__)


def register_kiosk_poll(app: Flask) -> None:
    """Put the poll in front of the Flask app. Call before anything wraps app.wsgi_app (a
    ProxyFix), so it sees the client's scheme and address as the view would."""
    app.wsgi_app = KioskPoll(app, app.wsgi_app)


_forks = [0]  # forks of this process so far, counted in the child
os.register_at_fork(after_in_child=lambda: _forks.__setitem__(0, _forks[0] + 1))


class KioskPoll:
    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.headers = [("Vary", "HX-Request, Cookie"), ("Cache-Control", "no-store"),
                        *SECURITY_HEADERS]
        # Cookie header -> (kiosk link id, time until which it may be used here), for cookies
        # verified once: the same bytes verify the same way until they expire.
        self.verified: dict[str, tuple[int, float]] = {}
        self.targets: dict[str, str | None] = {}  # PATH_INFO -> the screen it routes to
        self.idle: list = []  # (fork count when made, connection) not in use right now
        self.engine = None
        self.statement = None
        self.link_statement = None
        self.db_error = Exception
        self.sender_started = -1  # _forks when this process's dispatch sender was started
        self.feed: ChangeFeed | None = None
        self.feed_started = -1  # _forks when this process's change feed was started
        self.feed_lock = threading.Lock()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        if not self._unchanged(environ):
            return self.wsgi_app(environ, start_response)
        request_id = early_request_id(environ)
        headers = [*self.headers, ("X-Request-Id", request_id)]
        if is_https(environ):
            headers.append(HSTS)
        start_response("204 NO CONTENT", headers)
        if self.sender_started != _forks[0]:
            self._start_sender()
        # The line every request leaves; not even made when no handler would write it.
        if request_log.isEnabledFor(logging.INFO) and request_log.hasHandlers():
            log_early_answer(environ, started, request_id, 204)
        return []

    def _start_sender(self) -> None:
        # What any request through Flask does first (app.dispatch.worker): a process that only
        # ever answers polls (a worker replaced at night) still sends retries and left jobs.
        if self.app.config["DISPATCH_IN_BACKGROUND"]:
            dispatcher_for(self.app).start()
        self.sender_started = _forks[0]

    # --- the checks, cheapest first ---------------------------------------------------------

    def _unchanged(self, environ) -> bool:
        """True only when the kiosk view would answer this request 204."""
        if (environ.get("REQUEST_METHOD") != "GET"
                or environ.get("HTTP_HX_REQUEST") != "true"
                or environ.get("HTTP_HX_BOOSTED") == "true"
                or environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST") == "true"
                or environ.get("CONTENT_LENGTH") not in (None, "", "0")
                or "HTTP_TRANSFER_ENCODING" in environ):
            return False
        path = environ.get("PATH_INFO", "")
        query = QUERY.match(environ.get("QUERY_STRING", ""))
        if query is None or not PATH.match(path):
            return False
        config = self.app.config
        if config.get("SERVER_NAME") or (config.get("HTTPS") and not is_https(environ)):
            return False  # host matching, or the redirect to HTTPS: Flask's to decide
        target = self._target(path)
        if target is None:
            return False
        link_id = self._kiosk_link(environ.get("HTTP_COOKIE", ""))
        if link_id is None:
            return False
        feed = self._feed()
        row = self._read(link_id) if feed is None else self._remembered(feed, link_id)
        if row is None:
            return False  # revoked or gone (the view refuses), or the database failed
        stamp, station_id, station_name = row
        # The view's scope check (app.services.kiosk.require_screen): the link's own screen.
        if target != (EXPO if station_id is None else station_name):
            return False
        return query.group(1) == str(stamp)

    def _target(self, path: str) -> str | None:
        """The screen a path routes to (a station name, or EXPO), asked of Flask's own router
        once per path; None for anything else."""
        if path not in self.targets:
            if len(self.targets) >= MEMO_SIZE:
                self.targets.clear()
            self.targets[path] = self._route(path)
        return self.targets[path]

    def _route(self, path: str) -> str | None:
        try:
            # WSGI hands the path over as latin-1; the router reads it as UTF-8 (strictly
            # here: a path that does not decode is left to Flask).
            decoded = path.encode("latin-1").decode("utf-8")
            endpoint, args = self.app.url_map.bind("poll").match(decoded, method="GET")
        except (UnicodeError, HTTPException, RequestRedirect):
            return None
        if endpoint not in SCREENS:
            return None
        return EXPO if endpoint == "kiosk.expo" else args["station_name"]

    def _kiosk_link(self, cookie_header: str) -> int | None:
        """The kiosk link a screen's session cookie names, if the view would take it as that
        screen: verified, not expired, permanent (as _open_link makes it), no person in it."""
        if not cookie_header:
            return None
        interface = self.app.session_interface
        if type(interface) is not SecureCookieSessionInterface:
            return None  # a session kept elsewhere: only Flask can read it
        memo = self.verified.get(cookie_header)
        if memo is None:
            memo = self._verify(cookie_header)
            if memo is None:
                return None
            if len(self.verified) >= MEMO_SIZE:
                self.verified.clear()
            self.verified[cookie_header] = memo
        link_id, usable_until = memo
        return link_id if time.time() < usable_until else None

    def _verify(self, cookie_header: str) -> tuple[int, float] | None:
        cookies = parse_cookie(cookie_header)
        # Flask-Login would load a person from a remember cookie: the view decides then.
        if self.app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
            return None
        found = signed_session(self.app, cookies)
        if found is None:
            return None
        data, signed = found
        if not isinstance(data, dict) or "_user_id" in data or data.get("_permanent") is not True:
            return None
        link_id = data.get("kiosk_link_id")
        if type(link_id) is not int:
            return None
        max_age = self.app.permanent_session_lifetime.total_seconds()
        if self.app.config["SESSION_REFRESH_EACH_REQUEST"]:
            max_age = min(max_age, REFRESH_AFTER)
        return link_id, signed.timestamp() + max_age

    # --- the change stamp and the link: from the change feed, or one statement -------------

    def _feed(self) -> ChangeFeed | None:
        """This process's change feed if it can be believed now, else None."""
        if self.feed_started != _forks[0]:
            self._start_feed()
        feed = self.feed
        return feed if feed is not None and feed.healthy else None

    def _start_feed(self) -> None:
        # Lazily, in the process that serves (a gunicorn worker forks after the app is made);
        # again after a fork, as the thread stays behind in the parent.
        with self.feed_lock:
            if self.feed_started == _forks[0]:
                return
            if self.app.config["CHANGE_FEED"]:
                engine = self._engine()
                if engine.dialect.name == "postgresql":
                    if self.feed is None:
                        self.feed = ChangeFeed(conninfo(engine.url))
                    self.feed.start()
            self.feed_started = _forks[0]

    def _remembered(self, feed: ChangeFeed, link_id: int):
        """The poll's row from the feed: its stamp, and the link from its cache or looked up."""
        link = feed.links.get(link_id, NOT_CACHED)
        if link is NOT_CACHED:
            generation = feed.generation  # before the lookup: a change during it is heard
            found, link = self._fetch(link_id, link_only=True)
            if not found:
                return None  # the database failed: the view decides
            feed.remember(link_id, link, generation)
        return None if link is None else (feed.stamp, *link)

    def _read(self, link_id: int):
        """(change stamp, link's station id, station name) for a live link, else None."""
        return self._fetch(link_id)[1]

    def _fetch(self, link_id: int, link_only: bool = False) -> tuple[bool, tuple | None]:
        """(True, the row or None) from LINK or POLL; (False, None) if the database failed."""
        return self.read(lambda: self.link_statement if link_only else self.statement,
                         (link_id,))

    def read(self, statement, params) -> tuple[bool, tuple | None]:
        """(True, the first row or None) of `statement()` (the text for this database, known
        once a connection is made), on this process's own connections; (False, None) if the
        database failed. app.api.kept_lists reads through here too."""
        try:
            connection = self._take()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(statement(), params)
                    row = cursor.fetchone()
                finally:
                    cursor.close()  # ends SQLite's read transaction; PostgreSQL autocommits
            except self.db_error:
                _close(connection, self.db_error)  # perhaps broken: never reused
                raise
        except (SQLAlchemyError, self.db_error):
            log.warning("poll before Flask: database unavailable; left to the view",
                        exc_info=True)
            return False, None
        if len(self.idle) < MAX_IDLE:
            self.idle.append((_forks[0], connection))
        else:
            _close(connection, self.db_error)
        return True, row

    def engine_now(self):
        """The app's engine (made on first use, in the process that serves)."""
        return self._engine()

    def ensure_sender(self) -> None:
        """Start this process's dispatch sender if it has not been (see __call__)."""
        if self.sender_started != _forks[0]:
            self._start_sender()

    def _take(self):
        """An idle connection of this process (list.pop and append need no lock), or a new one."""
        while self.idle:
            try:
                forks, connection = self.idle.pop()
            except IndexError:
                break  # another thread took the last one
            if forks == _forks[0]:
                return connection
            # Made before a fork: the parent's. Left alone, as closing it here would end the
            # parent's session on the same socket.
        return self._connect()

    def _connect(self):
        """A connection made by the engine (so its connect hooks ran: SQLite's pragmas), then
        taken out of its pool for good: a pooled one would cost a pre-ping and a rollback per
        poll on PostgreSQL, three round trips for one. Autocommit, so it never holds a
        transaction (or a lock, or SQLite's WAL) between polls."""
        pooled = self._engine().raw_connection()
        pooled.detach()
        connection = pooled.dbapi_connection
        if getattr(connection, "autocommit", None) is False:  # psycopg; sqlite3 is set up so
            connection.rollback()  # the pool's pre-ping began a transaction
            connection.autocommit = True
            # psycopg's preparing, which the engine turns off (app.database), back at its
            # default: these never roll back, so what it prepares stays prepared.
            connection.prepare_threshold = 5
        return connection

    def _engine(self):
        if self.engine is None:
            with self.app.app_context():
                engine = db.engine
            qmark = engine.dialect.paramstyle == "qmark"
            self.statement = POLL if qmark else POLL.replace("?", "%s")
            self.link_statement = LINK if qmark else LINK.replace("?", "%s")
            self.db_error = engine.dialect.loaded_dbapi.Error
            self.engine = engine
        return self.engine

    def close(self) -> None:
        """Stop the change feed and close the idle connections (a test's app going away; both
        start again when needed)."""
        with self.feed_lock:
            if self.feed is not None:
                self.feed.stop()
            self.feed, self.feed_started = None, -1
        while self.idle:
            forks, connection = self.idle.pop()
            if forks == _forks[0]:
                _close(connection, self.db_error)


def signed_session(app: Flask, cookies) -> tuple[object, datetime] | None:
    """The session in these parsed cookies and when it was signed, checked as Flask checks it
    (its signature, and its age against the permanent lifetime, permanent or not); None if it
    does not verify, or if sessions are kept elsewhere than in the cookie."""
    interface = app.session_interface
    if type(interface) is not SecureCookieSessionInterface:
        return None
    value = cookies.get(interface.get_cookie_name(app))
    serializer = interface.get_signing_serializer(app)
    if not value or serializer is None:
        return None
    try:
        return serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                return_timestamp=True)
    except BadSignature:
        return None


def _close(connection, db_error) -> None:
    try:
        connection.close()
    except db_error:
        pass  # already broken; it is gone either way
