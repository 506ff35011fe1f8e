"""The kiosk's idle poll answered before Flask (app.kiosk_poll): 204 only where the kiosk view
would answer 204, with the view's headers and log line; everything else reaches the view,
which answers (or refuses) as it always did."""
import time
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeTimedSerializer

from app import kiosk_poll
from app.extensions import db
from app.kiosk_poll import KioskPoll
from app.services import history, kiosk_links, order_status, stations
from tests.conftest import make_app, make_ticket
from tests.views.helpers import HTMX, sign_in

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                    "Referrer-Policy", "Permissions-Policy")


def current_stamp() -> int:
    db.session.commit()  # a fresh read, not the snapshot of an earlier one
    return history.change_stamp()


def front(app) -> KioskPoll:
    found = app.wsgi_app
    assert isinstance(found, KioskPoll)
    return found


@pytest.fixture
def poll(app, monkeypatch):
    """The poll in front of the app, with fresh memories, and the paths it let through."""
    found = front(app)
    found.close()  # connections left by earlier tests (a browser test's threads)
    monkeypatch.setattr(found, "verified", {})
    monkeypatch.setattr(found, "targets", {})
    passed = []
    inner = found.wsgi_app

    def spy(environ, start_response):
        passed.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(found, "wsgi_app", spy)
    return SimpleNamespace(front=found, passed=passed)


@pytest.fixture
def shift(catalog, waiter):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("FRIES", 1))
    return order


def open_screen(client, admin, station="Kitchen"):
    """A browser signed in by a new kiosk link for `station` (None: the expo screen)."""
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name=station,
                                                 name=f"{station or 'expo'} wall")
    path = "/kiosk/expo" if station is None else f"/kiosk/{station}"
    assert client.get(f"{path}?key={secret}").status_code == 303
    return link


def get(client, poll, url, headers=HTMX, **kwargs):
    """(the answer, whether it reached Flask)."""
    before = len(poll.passed)
    response = client.get(url, headers=headers, **kwargs)
    return response, len(poll.passed) > before


def test_an_idle_poll_is_answered_before_flask_with_the_views_headers(client, app, poll,
                                                                      shift, admin, manager):
    open_screen(client, admin)
    stamp = current_stamp()
    fast, reached = get(client, poll, f"/kiosk/Kitchen?stamp={stamp}")
    assert fast.status_code == 204 and fast.get_data() == b"" and not reached
    # The same poll from a person's screen is the view's own 204: the headers must match.
    person = sign_in(app.test_client(), manager)
    slow, reached = get(person, poll, f"/kiosk/Kitchen?stamp={stamp}")
    assert slow.status_code == 204 and reached
    for name in ("Vary", "Cache-Control", *SECURITY_HEADERS):
        assert fast.headers[name] == slow.headers[name], name
    assert len(fast.headers["X-Request-Id"]) == 16
    assert "Strict-Transport-Security" not in fast.headers
    # A change: the next poll is the view's, and draws the board.
    order_status.set_order_status(user=manager, order_id=shift.id, status="Processing")
    board, reached = get(client, poll, f"/kiosk/Kitchen?stamp={stamp}")
    assert board.status_code == 200 and reached and "Processing" in board.get_data(as_text=True)
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={current_stamp()}")
    assert (response.status_code, reached) == (204, False)


def test_revoking_a_link_stops_its_screen_at_the_next_poll(client, poll, shift, admin):
    link = open_screen(client, admin)
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    response, reached = get(client, poll, url)
    assert (response.status_code, reached) == (204, False)
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    refused, reached = get(client, poll, url)
    assert refused.status_code == 403 and reached


def test_the_view_decides_for_any_other_screen(client, app, poll, shift, admin):
    stations.create_station(name="Café")
    open_screen(client, admin, "Café")
    stamp = current_stamp()
    response, reached = get(client, poll, f"/kiosk/Café?stamp={stamp}")
    assert (response.status_code, reached) == (204, False)
    for url, status in ((f"/kiosk/Kitchen?stamp={stamp}", 403),  # another station
                        (f"/kiosk/expo?stamp={stamp}", 403),  # the expo screen
                        (f"/kiosk/Nowhere?stamp={stamp}", 403),
                        (f"/kiosk/Caf%C3%A9/?stamp={stamp}", 404)):
        response, reached = get(client, poll, url)
        assert (response.status_code, reached) == (status, True), url
    expo = app.test_client()
    open_screen(expo, admin, None)
    response, reached = get(expo, poll, f"/kiosk/expo?stamp={stamp}")
    assert (response.status_code, reached) == (204, False)
    response, reached = get(expo, poll, f"/kiosk/Kitchen?stamp={stamp}")
    assert (response.status_code, reached) == (403, True)


def test_anything_but_the_plain_poll_reaches_the_view(client, poll, shift, admin):
    open_screen(client, admin)
    stamp = current_stamp()
    cases = [
        (f"/kiosk/Kitchen?stamp={stamp - 1}", HTMX, 200),  # stale: the board
        (f"/kiosk/Kitchen?stamp=0{stamp}", HTMX, 200),  # not the same text: the view redraws
        (f"/kiosk/Kitchen?stamp={stamp}", {}, 200),  # not htmx: the full page
        (f"/kiosk/Kitchen?stamp={stamp}", {**HTMX, "HX-Boosted": "true"}, 200),
        (f"/kiosk/Kitchen?stamp={stamp}", {**HTMX, "HX-History-Restore-Request": "true"}, 200),
        (f"/kiosk/Kitchen?stamp={stamp}&other=1", HTMX, 204),
        (f"/kiosk/Kitchen?stamp={stamp}&key=kio_wrong", HTMX, 403),
    ]
    for url, headers, status in cases:
        response, reached = get(client, poll, url, headers=headers)
        assert (response.status_code, reached) == (status, True), (url, headers)
    response, reached = get(client, poll, f"/kiosk/Kitchen?stamp={stamp}", data=b"a body")
    assert (response.status_code, reached) == (204, True)  # a body: Flask's limits apply
    before = len(poll.passed)
    assert client.post(f"/kiosk/Kitchen?stamp={stamp}", headers=HTMX).status_code == 405
    assert len(poll.passed) == before + 1


def test_a_screen_without_a_good_kiosk_cookie_reaches_the_view(client, app, poll, shift,
                                                               admin):
    link = open_screen(client, admin)
    stamp = current_stamp()
    url = f"/kiosk/Kitchen?stamp={stamp}"
    good = client.get_cookie("session").value
    signer = app.session_interface.get_signing_serializer(app)
    stranger = URLSafeTimedSerializer("another secret", salt="cookie-session")
    forged = {"kiosk_link_id": link.id, "_permanent": True}
    cookies = [
        (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), 401),  # tampered
        (stranger.dumps(forged), 401),  # signed with another key
        (signer.dumps({"kiosk_link_id": str(link.id), "_permanent": True}), 204),  # not an int
        (signer.dumps({"kiosk_link_id": link.id}), 204),  # not permanent: Flask's rules apply
        # A person who no longer exists: Flask-Login finds nobody, the kiosk link holds.
        (signer.dumps({**forged, "_user_id": "999999"}), 204),
        ("", 401),
    ]
    for value, status in cookies:
        client.set_cookie("session", value)
        response, reached = get(client, poll, url)
        assert (response.status_code, reached) == (status, True), value
    client.set_cookie("session", good)
    assert get(client, poll, url)[0].status_code == 204
    client.set_cookie("remember_token", "someone|signature")  # Flask-Login's to judge
    response, reached = get(client, poll, url)
    assert (response.status_code, reached) == (204, True)


def test_an_old_cookie_goes_through_flask_once_to_be_set_again(client, poll, shift, admin,
                                                               monkeypatch):
    real_time = time.time
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: real_time() - kiosk_poll.REFRESH_AFTER - 60)
        open_screen(client, admin)  # its cookie is signed an hour and a minute ago
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    old = client.get_cookie("session").value
    response, reached = get(client, poll, url)
    assert (response.status_code, reached) == (204, True)
    assert client.get_cookie("session").value != old  # the view set it again
    response, reached = get(client, poll, url)
    assert (response.status_code, reached) == (204, False)


def test_a_database_error_leaves_the_poll_to_the_view(client, poll, shift, admin, monkeypatch):
    open_screen(client, admin)
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    assert get(client, poll, url)[1] is False
    assert len(poll.front.idle) == 1  # this thread's connection, kept for the next poll
    with monkeypatch.context() as m:
        m.setattr(poll.front, "statement", "SELECT nonsense FROM nowhere")
        response, reached = get(client, poll, url)
        assert (response.status_code, reached) == (204, True)
    assert poll.front.idle == []  # closed, not kept: a new one is made for the next poll
    assert get(client, poll, url)[1] is False


def test_the_poll_leaves_one_log_line_with_its_request_id(client, poll, shift, admin,
                                                          request_log):
    open_screen(client, admin)
    url = f"/kiosk/Kitchen?stamp={current_stamp()}"
    before, passed = len(request_log()), len(poll.passed)
    fast = client.get(url, headers={**HTMX, "X-Request-Id": "from-the-proxy-1"})
    assert fast.status_code == 204 and len(poll.passed) == passed
    (record,) = request_log()[before:]
    assert (record.method, record.path, record.status) == ("GET", "/kiosk/Kitchen", 204)
    assert record.requestId == fast.headers["X-Request-Id"] == "from-the-proxy-1"
    assert "stamp" not in record.getMessage()
    junk = client.get(url, headers={**HTMX, "X-Request-Id": "bad id!"})
    assert junk.headers["X-Request-Id"] != "bad id!" and len(poll.passed) == passed


def test_behind_https_only_an_https_poll_is_answered_here(app, shift, admin):
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], HTTPS=True)
    try:
        client = other.test_client()
        with other.app_context():
            _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                      name="Secure wall")
            stamp = current_stamp()
        assert client.get(f"https://localhost/kiosk/Kitchen?key={secret}").status_code == 303
        cookie = client.get_cookie("session").value
        # Sent over plain HTTP on purpose (a browser would not send a Secure cookie there).
        plain = client.get(f"http://localhost/kiosk/Kitchen?stamp={stamp}",
                           headers={**HTMX, "Cookie": f"session={cookie}"})
        assert plain.status_code in (301, 302)  # Flask-Talisman's redirect to HTTPS
        secure = client.get(f"https://localhost/kiosk/Kitchen?stamp={stamp}", headers=HTMX)
        assert secure.status_code == 204
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        front(other).close()
        with other.app_context():
            db.engine.dispose()


def test_a_process_that_only_answers_polls_still_runs_its_dispatch_sender(app, shift, admin):
    from app.dispatch.worker import dispatcher_for

    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], DISPATCH_IN_BACKGROUND=True)
    dispatcher = dispatcher_for(other)
    try:
        client = other.test_client()
        with other.app_context():
            _, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                      name="Night wall")
            stamp = current_stamp()
        assert client.get(f"/kiosk/Kitchen?key={secret}").status_code == 303
        dispatcher.stop()  # as in a fresh worker: nothing has gone through Flask yet
        poller = front(other)
        poller.sender_started, flask_app = -1, poller.wsgi_app
        poller.wsgi_app = None  # the poll must not need Flask for this
        assert client.get(f"/kiosk/Kitchen?stamp={stamp}", headers=HTMX).status_code == 204
        poller.wsgi_app = flask_app
        assert dispatcher._thread is not None and dispatcher._thread.is_alive()
    finally:
        dispatcher.stop()
        front(other).close()
        with other.app_context():
            db.engine.dispose()
