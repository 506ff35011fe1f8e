"""The dashboard list asked again with nothing changed, answered before Flask
(app/views/kept_pages.py): the same page as Flask's, with a CSRF token of the asking session,
and never once anything changed for the orders, the stations, the user or the session."""
import re
import time

import pytest
from sqlalchemy import update

from app import rights as R
from app.extensions import db
from app.models import User
from app.services import order_status, stations
from tests.conftest import PASSWORD, make_ticket, make_user
from tests.views.helpers import HTMX, sign_in

TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def _unsigned(data: bytes) -> bytes:
    """A page with its CSRF token blanked: a token is signed with the second it is made, so two
    pages a moment apart may carry different ones for the same session."""
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b'"X-CSRFToken": ""', data)


@pytest.fixture
def order(catalog, waiter):
    _, (made,) = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1), name="Table 4")
    return made


@pytest.fixture
def flask_calls(app, monkeypatch):
    """The requests that reached Flask (past the kept pages), by path."""
    pages = app.wsgi_app.wsgi_app.wsgi_app  # kiosk poll -> kept lists -> kept pages -> ticket updates -> Flask
    behind, reached = pages.wsgi_app, []
    monkeypatch.setattr(pages, "wsgi_app", lambda environ, start: (
        reached.append(environ["PATH_INFO"]) or behind(environ, start)))
    return reached


def settled(client, user):
    """Signed in, and the first page seen: signing in leaves the session one change to make
    (Flask-Login's remember flag cleared, the CSRF secret made), so that page sets a cookie and
    is not kept. From there on the session cookie stays the same."""
    sign_in(client, user)
    assert "Set-Cookie" in client.get("/orders").headers
    return client


def _tokens(html: str) -> list[str]:
    return TOKEN.findall(html)


def test_the_list_asked_again_is_the_same_page_answered_before_flask(client, order, manager,
                                                                   flask_calls, request_log):
    settled(client, manager)
    first = client.get("/orders")
    again = client.get("/orders")
    assert flask_calls == ["/sign-in", "/orders", "/orders"]  # the third never reached Flask
    assert again.status_code == 200
    assert _unsigned(again.get_data()) == _unsigned(first.get_data())
    assert str(order.number) in again.get_data(as_text=True)
    same = {"Content-Type", "Content-Length", "Vary", "Content-Security-Policy",
            "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"}
    for name in same:
        assert again.headers.get(name) == first.headers.get(name), name
    assert sorted(again.headers.keys()) == sorted(first.headers.keys())
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert "Set-Cookie" not in again.headers
    line = request_log()[-1]
    assert (line.path, line.status, line.user, line.requestId) == (
        "/orders", 200, "manager", again.headers["X-Request-Id"])


def test_a_kept_page_carries_the_asking_sessions_csrf_token(app, order, manager, flask_calls):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        browsers = [app.test_client(), app.test_client()]
        for browser in browsers:
            page = browser.get("/sign-in").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            assert browser.post("/sign-in", data={"user_name": "manager", "password": PASSWORD,
                                                  "csrf_token": token}).status_code == 303
        kept = []
        for browser in browsers:
            assert "Set-Cookie" in browser.get("/orders").headers  # the session's CSRF secret
            browser.get("/orders")
            kept.append(browser.get("/orders").get_data(as_text=True))
        assert flask_calls.count("/orders") == 4  # twice per session, then kept
        tokens = [set(_tokens(page)) for page in kept]
        assert all(len(t) == 1 for t in tokens) and tokens[0] != tokens[1]
        # Each token is its own session's: good there, refused in the other.
        (first,), (second,) = tokens
        assert browsers[1].post("/sign-out", headers={"X-CSRFToken": first}).status_code == 400
        signed_out = browsers[1].post("/sign-out", headers={"X-CSRFToken": second})
        assert signed_out.status_code == 303
        assert browsers[1].get("/orders").status_code == 302  # signed out indeed
        assert browsers[0].get("/orders").status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_any_change_to_an_order_or_a_station_is_seen_at_once(client, order, manager,
                                                             flask_calls):
    settled(client, manager)
    client.get("/orders")
    assert "status-new" in client.get("/orders").get_data(as_text=True)
    order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    page = client.get("/orders").get_data(as_text=True)
    assert ">Completed<" in page or "status-completed" in page
    assert flask_calls.count("/orders") == 3
    stations.update_station("Bar", name="Drinks", type="display", is_active=True,
                            address=None, settings=None)
    page = client.get("/orders").get_data(as_text=True)
    assert "Drinks" in page and ">Bar<" not in page
    assert flask_calls.count("/orders") == 4


def test_a_deactivated_user_is_sent_to_sign_in_even_with_a_page_kept(client, order, manager):
    settled(client, manager)
    client.get("/orders")
    assert client.get("/orders").status_code == 200
    db.session.execute(update(User).where(User.id == manager.id).values(is_active_user=False))
    db.session.commit()
    response = client.get("/orders")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_changed_rights_and_name_show_at_once(client, order, manager, flask_calls):
    settled(client, manager)
    client.get("/orders")
    page = client.get("/orders").get_data(as_text=True)
    assert 'id="batch"' in page and "Renamed Person" not in page
    db.session.execute(update(User).where(User.id == manager.id)
                       .values(rights_text=R.ORDER_READ, name="Renamed Person"))
    db.session.commit()
    page = client.get("/orders").get_data(as_text=True)
    assert 'id="batch"' not in page and "Renamed Person" in page
    assert flask_calls.count("/orders") == 3


def test_each_user_gets_their_own_page(client, order, manager, waiter, app):
    settled(client, manager)
    client.get("/orders")
    assert str(order.number) in client.get("/orders").get_data(as_text=True)
    other = app.test_client()
    settled(other, make_user("nobody", []))
    other.get("/orders")
    page = other.get("/orders").get_data(as_text=True)
    assert "My orders" in page and str(order.number) + "<" not in page


def test_a_flashed_message_is_shown_once_and_never_kept(client, order, manager):
    settled(client, manager)
    client.get("/orders")
    client.get("/orders")
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Hello from the last action.")]
    assert "Hello from the last action." in client.get("/orders").get_data(as_text=True)
    for _ in range(2):
        assert "Hello from the last action." not in client.get("/orders").get_data(as_text=True)


def test_another_browser_or_address_with_the_same_cookie_goes_to_flask(client, order, manager,
                                                                      flask_calls):
    settled(client, manager)
    client.get("/orders")
    client.get("/orders")
    assert flask_calls.count("/orders") == 2
    client.get("/orders", headers={"User-Agent": "another browser"})
    client.get("/orders", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    client.get("/orders", headers={"X-Forwarded-For": "10.9.8.7"})
    assert flask_calls.count("/orders") == 5


def test_an_expired_session_is_refused_even_with_a_page_kept(client, order, manager,
                                                             monkeypatch, app):
    settled(client, manager)
    client.get("/orders")
    assert client.get("/orders").status_code == 200
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)  # for Flask's cookie check too
    response = client.get("/orders")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_page_fragment_and_live_poll_are_kept_apart(client, order, manager, flask_calls):
    settled(client, manager)
    page = client.get("/orders")
    fragment = client.get("/orders", headers=HTMX)
    assert _unsigned(client.get("/orders").get_data()) == _unsigned(page.get_data())
    assert _unsigned(client.get("/orders", headers=HTMX).get_data()) == \
        _unsigned(fragment.get_data())
    assert b"<html" in page.get_data() and b"<html" not in fragment.get_data()
    assert fragment.headers["HX-Push-Url"] == "/orders"
    stamp = re.search(r'"stamp": "(\d+)"', fragment.get_data(as_text=True)).group(1)
    poll = client.get(f"/orders?stamp={stamp}", headers=HTMX)
    again = client.get(f"/orders?stamp={stamp}", headers=HTMX)
    assert poll.status_code == again.status_code == 204 and again.get_data() == b""
    assert "Content-Length" not in again.headers or again.headers["Content-Length"] == "0"
    assert flask_calls.count("/orders") == 4  # page, fragment and poll once each, after settling
    order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    assert client.get(f"/orders?stamp={stamp}", headers=HTMX).status_code == 200


def test_a_bad_filter_is_never_kept(client, order, manager, flask_calls):
    settled(client, manager)
    for _ in range(2):
        assert client.get("/orders?number=abc").status_code == 422
    assert flask_calls.count("/orders") == 3


def test_a_page_under_another_mount_point_is_kept_apart(client, order, manager):
    settled(client, manager)
    client.get("/orders")
    assert 'href="/orders/' in client.get("/orders").get_data(as_text=True)
    for _ in range(2):
        page = client.get("/orders", base_url="http://localhost/hub").get_data(as_text=True)
        assert 'href="/hub/orders/' in page and 'href="/orders/' not in page
