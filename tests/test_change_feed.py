"""The change feed (app.change_feed) behind the kiosk's idle poll on PostgreSQL: the poll answers
from memory while the feed is healthy, hears changes, revocations and station edits made on
other connections, and falls back to reading the database while the feed is down.

LISTEN/NOTIFY is PostgreSQL's: on SQLite the feed never starts (the first test checks that);
the others are marked postgresql_only and run on PostgreSQL alone (tests/conftest.py).
"""
import inspect
import time
import urllib.error
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import text

from app import change_feed, kiosk_poll
from app.change_feed import ChangeFeed
from app.extensions import db
from app.services import kiosk_links, order_status, stations
from tests import test_kiosk_poll
from tests.conftest import bearer
from tests.test_kiosk_poll import current_stamp, get, open_screen

# The kiosk poll tests' fixtures: the poll with fresh memories, and an order for the Kitchen.
poll = test_kiosk_poll.poll
shift = test_kiosk_poll.shift


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


@contextmanager
def running_feed(app):
    """The app's poll with its change feed on, until the feed has read the counter; the feed
    itself (None on SQLite, where there is none)."""
    front = app.wsgi_app
    front.close()
    app.config["CHANGE_FEED"] = True
    try:
        front._feed()  # starts it, as the first poll would
        if front.feed is not None:
            wait_for(lambda: front.feed.healthy)
        yield front.feed
    finally:
        app.config["CHANGE_FEED"] = False
        front.close()


@pytest.fixture
def feed(app):
    assert app.config["DB_KIND"] == "postgresql"  # tests taking it are postgresql_only
    with running_feed(app) as found:
        yield found


def counted_connections(poll, m) -> list:
    """Each time the poll takes a connection to read the database, an entry."""
    taken = []
    take = poll.front._take
    m.setattr(poll.front, "_take", lambda: taken.append(1) or take())
    return taken


def caught_up(feed) -> bool:
    return feed.healthy and feed.stamp == current_stamp()


def test_the_feed_runs_on_postgresql_only(app, client, poll, shift, admin):
    with running_feed(app) as found:
        if app.config["DB_KIND"] == "postgresql":
            assert found is not None and found.healthy
        else:
            assert found is None
            open_screen(client, admin)
            response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={current_stamp()}")
            assert (response.status_code, reached) == (204, False)
            assert len(poll.front.idle) == 1  # read through the poll's own connection


@pytest.mark.postgresql_only
def test_a_change_committed_elsewhere_is_heard(client, poll, feed, shift, admin, manager,
                                              monkeypatch):
    open_screen(client, admin)
    old = current_stamp()
    wait_for(lambda: caught_up(feed))
    assert get(client, poll, f"/kiosk/Kitchen?stamp={old}")[1] is False  # caches the link
    with monkeypatch.context() as m:
        taken = counted_connections(poll, m)
        response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={old}")
        assert (response.status_code, reached, taken) == (204, False, [])
    # Committed through the app's pool, a connection other than the feed's.
    order_status.set_order_status(user=manager, order_id=shift.id, status="Processing")
    new = current_stamp()
    assert new > old
    wait_for(lambda: feed.stamp == new)
    board, reached = get(client, poll, f"/kiosk/Kitchen?stamp={old}")
    assert board.status_code == 200 and reached
    with monkeypatch.context() as m:
        taken = counted_connections(poll, m)
        response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={new}")
        assert (response.status_code, reached, taken) == (204, False, [])


@pytest.mark.postgresql_only
def test_a_revoked_link_is_refused_once_the_notification_is_heard(client, poll, feed, shift,
                                                                  admin):
    link = open_screen(client, admin)
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    wait_for(lambda: caught_up(feed))
    assert get(client, poll, url)[1] is False
    assert link.id in feed.links
    listener, generation = feed.backend_pid, feed.generation
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    wait_for(lambda: link.id not in feed.links)
    # Dropped by the notification, not by a reconnection.
    assert feed.generation > generation and feed.backend_pid == listener and feed.healthy
    refused, reached = get(client, poll, url)
    assert refused.status_code == 403 and reached
    assert feed.links[link.id] is None  # remembered as not live: the view keeps refusing
    assert get(client, poll, url)[0].status_code == 403


@pytest.mark.postgresql_only
def test_renaming_or_deleting_a_station_drops_the_cached_links(client, poll, feed, shift,
                                                               admin):
    stations.create_station(name="Café")
    link_id = open_screen(client, admin, "Café").id
    stamp = current_stamp()
    wait_for(lambda: caught_up(feed))
    assert get(client, poll, f"/kiosk/Café?stamp={stamp}")[1] is False
    stations.update_station("Café", name="Bistro", type="display", is_active=True,
                            address=None, settings=None)
    wait_for(lambda: link_id not in feed.links)
    response, reached = get(client, poll, f"/kiosk/Café?stamp={stamp}")
    assert (response.status_code, reached) == (403, True)  # no longer this link's screen
    response, reached = get(client, poll, f"/kiosk/Bistro?stamp={stamp}")
    assert (response.status_code, reached) == (204, False)
    assert feed.links[link_id][1] == "Bistro"
    stations.delete_station("Bistro")  # its links go with it
    wait_for(lambda: link_id not in feed.links)
    response, reached = get(client, poll, f"/kiosk/Bistro?stamp={stamp}")
    assert response.status_code in (403, 404) and reached


@pytest.mark.postgresql_only
@pytest.mark.parametrize("rules", [
    test_kiosk_poll.test_the_view_decides_for_any_other_screen,
    test_kiosk_poll.test_anything_but_the_plain_poll_reaches_the_view,
    test_kiosk_poll.test_a_screen_without_a_good_kiosk_cookie_reaches_the_view,
    test_kiosk_poll.test_an_old_cookie_goes_through_flask_once_to_be_set_again,
], ids=lambda rules: rules.__name__.removeprefix("test_"))
def test_the_views_rules_hold_with_the_feed(request, poll, shift, feed, rules):
    """The kiosk poll's own tests, answered from the feed: the same answers."""
    wait_for(lambda: caught_up(feed))
    rules(**{name: request.getfixturevalue(name)
             for name in inspect.signature(rules).parameters})
    assert feed.healthy and feed.links  # answered from memory, not by falling back


@pytest.mark.postgresql_only
def test_a_lookup_that_raced_with_a_change_is_not_kept(client, poll, feed, shift, admin):
    link = open_screen(client, admin)
    wait_for(lambda: caught_up(feed))
    generation = feed.generation  # as a poll takes it before looking the link up
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    wait_for(lambda: feed.generation > generation)
    feed.remember(link.id, (None, "Kitchen"), generation)  # what the lookup had seen
    assert link.id not in feed.links


@pytest.mark.postgresql_only
def test_a_lost_listener_leaves_the_poll_to_the_database_until_it_is_back(
        app, client, poll, feed, shift, admin, manager, monkeypatch):
    link = open_screen(client, admin)
    wait_for(lambda: caught_up(feed))
    assert get(client, poll, f"/kiosk/Kitchen?stamp={current_stamp()}")[1] is False
    listener, dsn = feed.backend_pid, feed.dsn
    # While it is down, it cannot come back: every poll below reads the database.
    monkeypatch.setattr(feed, "dsn", "postgresql://postgres@127.0.0.1:1/nowhere")
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({listener})")
    wait_for(lambda: not feed.healthy and feed.links == {})
    taken = counted_connections(poll, monkeypatch)
    old = current_stamp()
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={old}")
    assert (response.status_code, reached, len(taken)) == (204, False, 1)
    order_status.set_order_status(user=manager, order_id=shift.id, status="Processing")
    new = current_stamp()
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={old}")
    assert (response.status_code, reached, len(taken)) == (200, True, 2)
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={new}")
    assert (response.status_code, reached, len(taken)) == (204, False, 3)
    assert not feed.healthy
    # Back: it listens on a new connection, has read the counter, and answers from memory.
    monkeypatch.setattr(feed, "dsn", dsn)
    wait_for(lambda: feed.healthy, seconds=15)  # the back-off may have grown to 5 s
    assert feed.backend_pid not in (None, listener) and feed.stamp == new
    get(client, poll, f"/kiosk/Kitchen?stamp={new}")  # looks the link up again
    taken.clear()
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={new}")
    assert (response.status_code, reached, taken) == (204, False, [])
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    wait_for(lambda: link.id not in feed.links)
    assert get(client, poll, f"/kiosk/Kitchen?stamp={new}")[0].status_code == 403


@pytest.mark.postgresql_only
def test_a_counter_set_back_is_read_again(app, feed, shift):
    wait_for(lambda: caught_up(feed))
    assert feed.stamp > 0
    with db.engine.begin() as conn:  # as a restore, or a test's wipe, does
        conn.exec_driver_sql("UPDATE counters SET value = 0 WHERE name = 'changes'")
    wait_for(lambda: feed.stamp == 0, seconds=change_feed.CHECK_EVERY + 3)


@pytest.mark.postgresql_only
def test_a_forked_process_starts_a_feed_of_its_own(client, poll, feed, shift, admin,
                                                   monkeypatch):
    open_screen(client, admin)
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    wait_for(lambda: caught_up(feed))
    parent = feed._thread
    feed._stop.set()
    parent.join()
    # What a child sees: one more fork counted, no listening thread, and the feed as the
    # parent left it, healthy a moment ago.
    monkeypatch.setattr(kiosk_poll, "_forks", [kiosk_poll._forks[0] + 1])
    monkeypatch.setattr(feed, "_pid", -1)
    feed.confirmed_at = time.monotonic()
    dsn = feed.dsn
    feed.dsn = "postgresql://postgres@127.0.0.1:1/nowhere"  # the new thread waits, for now
    taken = counted_connections(poll, monkeypatch)
    response, reached = get(client, poll, url)
    # Not believed until its own thread has read the counter: the database answered.
    assert (response.status_code, reached, len(taken)) == (204, False, 1)
    assert feed._thread is not parent and feed._thread.is_alive()
    assert poll.front.feed is feed
    feed.dsn = dsn
    wait_for(lambda: feed.healthy, seconds=15)
    get(client, poll, url)  # looks the link up
    taken.clear()
    response, reached = get(client, poll, url)
    assert (response.status_code, reached, taken) == (204, False, [])


@pytest.mark.postgresql_only
def test_the_feed_connects_with_the_engines_url(app):
    dsn = change_feed.conninfo(db.engine.url)
    assert dsn.startswith("postgresql://")
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not ChangeFeed(dsn).healthy  # nothing read yet


def listening_processes() -> int:
    """Server processes other than this one with a change feed on this database."""
    with db.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query = :read"), {"read": change_feed.READ_STAMP}).scalar()


@pytest.mark.slow
def test_two_processes_with_the_feed_see_each_others_changes(app, catalog, waiter, admin,
                                                             tmp_path):
    """Contract 5.2 with the feed on in both: a change through one process reaches a screen
    served by the other within 2 seconds, and so does a revocation."""
    from tests.test_two_processes import Screen, Server, api

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    servers = [Server(url, tmp_path / f"server-{n}.log", {"CHANGE_FEED": "1"}) for n in "ab"]
    try:
        for server in servers:
            server.wait_until_up()
        a, b = servers
        link, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                     name="Wall")
        screen = Screen(b, "Kitchen", secret)
        assert screen.poll() == 204  # starts b's feed
        if app.config["DB_KIND"] == "postgresql":
            wait_for(lambda: listening_processes() == 1)  # b's; a has had no poll
        api(a, "POST", "/tickets", bearer(waiter, "POS-1"), {
            "name": "Table 42", "items": [{"productCode": "FRIES", "quantity": 2}]})
        assert screen.wait_for(lambda html: "Table 42" in html) < 2.0
        assert screen.poll() == 204
        kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
        start = time.monotonic()
        while True:
            try:
                screen.poll()
            except urllib.error.HTTPError as refused:
                assert refused.code == 403
                break
            assert time.monotonic() - start < 2.0, "a revoked link still answered"
            time.sleep(0.2)
    finally:
        for server in servers:
            server.stop()
