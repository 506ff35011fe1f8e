"""Whole list answers kept per process (app/api/list_cache.py): asked again with nothing changed,
the same text comes back; any change, any other caller's view or any station change is a new
answer. tests/api/test_order_documents.py compares every answer with serialising afresh."""
from datetime import timedelta

from sqlalchemy import update

from app.api.list_cache import ENTRY_OVERHEAD, ListCache, list_cache
from app.extensions import db
from app.models import Token, User, utcnow
from app.services import order_status, stations
from tests.conftest import bearer, make_ticket, make_user

QUERY = "/api/orders?$take=10&$sort=-number"


def test_a_list_asked_again_is_answered_from_what_was_kept(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    first = client.get(QUERY, headers=headers)
    assert first.status_code == 200 and len(list_cache()) == 1
    again = client.get(QUERY, headers=headers)
    assert again.get_data() == first.get_data()
    assert again.mimetype == "application/json"
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert "Content-Security-Policy" in again.headers


def test_any_change_is_seen_at_once(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    assert client.get(QUERY, headers=headers).json["items"][0]["status"] == "New"
    order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    assert client.get(QUERY, headers=headers).json["items"][0]["status"] == "Completed"
    make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    assert client.get(QUERY, headers=headers).json["totalCount"] == 2


def test_a_station_renamed_is_seen_at_once(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("COLA", 1))
    headers = bearer(manager)

    def stations_named():
        order = client.get(QUERY, headers=headers).json["items"][0]
        return {e["name"] for e in order["endpoints"]}
    assert "Bar" in stations_named()
    stations.update_station("Bar", name="Drinks", type="display", is_active=True,
                            address=None, settings=None)
    assert "Drinks" in stations_named() and "Bar" not in stations_named()


def test_the_same_query_answers_each_caller_what_they_see(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("BURGER", 1))
    everyone = client.get(QUERY, headers=bearer(manager)).json
    own = client.get(QUERY, headers=bearer(make_user("customer", []))).json
    assert everyone["totalCount"] == 1 and own["totalCount"] == 0
    assert client.get(QUERY, headers=bearer(manager)).json == everyone


def test_counts_are_kept_and_history_is_not(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    count = "/api/orders?$count=true&status=New"
    assert client.get(count, headers=headers).json["count"] == 1
    assert len(list_cache()) == 1
    order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    assert client.get(count, headers=headers).json["count"] == 0
    client.get("/api/orders?$include=history", headers=headers)
    assert len(list_cache()) == 2


def test_a_stamp_going_back_drops_everything_kept():
    cache = ListCache(budget=10_000)
    cache.get(("q", 5), 5)
    cache.put(("q", 5), b"answer at 5")
    assert cache.get(("q", 5), 5) == b"answer at 5"
    # The database was restored or wiped: stamp 3 now, and 5 may come again with other data.
    assert cache.get(("q", 3), 3) is None and len(cache) == 0


def test_the_least_recently_used_answers_go_first_past_the_budget():
    text = b"x" * 1000
    cache = ListCache(budget=3 * (len(text) + 33 + ENTRY_OVERHEAD))
    for n in range(3):
        cache.put(("q", n), text)
    cache.get(("q", 0), 1)  # used again: the oldest is now 1
    cache.put(("q", 3), text)
    assert cache.get(("q", 1), 1) is None
    assert cache.get(("q", 0), 1) == text and cache.get(("q", 3), 1) == text
    assert cache.size <= cache.budget


# --- answered before Flask (app/api/kept_lists.py) ----------------------------------------------

def _kept_twice(client, headers):
    first = client.get(QUERY, headers=headers)
    assert first.status_code == 200
    return first


def test_a_kept_answer_is_the_views_own(client, catalog, waiter, manager, request_log):
    make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    first = _kept_twice(client, headers)
    kept = client.get(QUERY, headers={**headers, "X-Request-Id": "given-id-123"})
    assert kept.get_data() == first.get_data()
    same = {k: v for k, v in first.headers.items() if k != "X-Request-Id"}
    assert {k: v for k, v in kept.headers.items() if k != "X-Request-Id"} == same
    assert kept.headers["X-Request-Id"] == "given-id-123"
    line = request_log()[-1]
    assert (line.path, line.status, line.user, line.requestId) == (
        "/api/orders", 200, "manager", "given-id-123")


def test_a_revoked_or_expired_token_is_refused_even_with_an_answer_kept(client, catalog, waiter,
                                                                        manager):
    make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    _kept_twice(client, headers)
    db.session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(QUERY, headers=headers).status_code == 401
    headers = bearer(manager)
    _kept_twice(client, headers)
    db.session.execute(update(Token).values(revoked_at=utcnow()))
    db.session.commit()
    assert client.get(QUERY, headers=headers).status_code == 401


def test_an_inactive_user_is_refused_even_with_an_answer_kept(client, catalog, waiter, manager):
    make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    _kept_twice(client, headers)
    db.session.execute(update(User).where(User.id == manager.id).values(is_active_user=False))
    db.session.commit()
    assert client.get(QUERY, headers=headers).status_code == 401


def test_only_a_plain_bearer_list_request_is_answered_before_flask(app, client, catalog, waiter,
                                                                   manager, monkeypatch):
    make_ticket(waiter, catalog, ("BURGER", 1))
    headers = bearer(manager)
    _kept_twice(client, headers)
    reached = []
    flask_app = app.wsgi_app.wsgi_app.wsgi_app  # kiosk poll -> kept lists -> (the fronts behind) -> Flask
    monkeypatch.setattr(app.wsgi_app.wsgi_app, "wsgi_app",
                        lambda environ, start: reached.append(1) or flask_app(environ, start))
    assert client.get(QUERY, headers=headers).status_code == 200 and reached == []
    assert client.get(QUERY.replace("10", "11"), headers=headers).status_code == 200
    assert client.get("/api/orders/nope", headers=headers).status_code == 404
    assert client.get(QUERY, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(QUERY).status_code == 401
    assert len(reached) == 4
