"""Ticket updates answered before Flask (app/api/early_tickets.py): the same answer as the view's,
and every other request, refusals included, left to Flask with its body."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api.early_tickets import EarlyTickets
from app.extensions import db
from app.models import Token, utcnow
from app.order_models import Order
from app.services.users import create_api_key, hash_secret
from tests.conftest import bearer, make_user

VARYING = {"X-Request-Id", "ETag", "Content-Length"}


@pytest.fixture
def front(app, monkeypatch):
    """The front, and the requests it handed to Flask (their bodies, as Flask read them)."""
    found = app.wsgi_app.wsgi_app.wsgi_app.wsgi_app  # poll -> lists -> pages -> tickets
    assert isinstance(found, EarlyTickets)
    flask_app, reached = found.wsgi_app, []

    def to_flask(environ, start_response):
        reached.append(environ["wsgi.input"].read())
        environ["wsgi.input"].seek(0)
        return flask_app(environ, start_response)

    monkeypatch.setattr(found, "wsgi_app", to_flask)
    return found, reached


@pytest.fixture
def ticket(client, catalog, waiter):
    headers = bearer(waiter, "POS-1")
    made = client.post("/api/tickets", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 1}]}).get_json()
    return made["id"], headers


def _orders(ticket_id) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Order)
                             .where(Order.ticket_id == ticket_id))


def test_an_update_is_answered_before_flask_as_flask_answers_it(client, ticket, front,
                                                                 monkeypatch):
    found, reached = front
    ticket_id, headers = ticket
    early = client.put(f"/api/tickets/{ticket_id}", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]})
    assert early.status_code == 200 and reached == []
    monkeypatch.setattr(found, "_ours", lambda environ: None)
    late = client.put(f"/api/tickets/{ticket_id}", headers=headers, json={
        "name": "Table 1", "items": [{"productCode": "COLA", "quantity": 3}]})
    assert late.status_code == 200 and len(reached) == 1
    assert [(k, v) for k, v in early.headers.items() if k not in VARYING] == \
        [(k, v) for k, v in late.headers.items() if k not in VARYING]
    assert (early.headers["ETag"], late.headers["ETag"]) == ('"2"', '"3"')
    early_body, late_body = early.get_json(), late.get_json()
    assert early_body["items"] == [{"productCode": "COLA", "quantity": 2, "note": None,
                                    "course": None}]
    for body in (early_body, late_body):
        del body["lastSavedDateUtc"], body["items"], body["_v"]
    assert early_body == late_body
    assert early.get_data().endswith(b"\n") == late.get_data().endswith(b"\n")
    assert _orders(ticket_id) == 3


def test_every_refusal_is_flask_s_and_writes_nothing(client, ticket, front, catalog):
    _, reached = front
    ticket_id, headers = ticket
    path = f"/api/tickets/{ticket_id}"
    good = {"name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]}
    creator = {"Authorization": bearer(make_user("creator", ["ticketCreate"]))["Authorization"]}
    refused = [
        (client.put(path, json=good), 401),
        (client.put(path, json=good, headers={"Authorization": "Bearer wrong"}), 401),
        (client.put(path, json=good, headers=creator), 403),
        (client.put(path, json={"name": "", "items": []}, headers=headers), 400),
        (client.put(path, json={**good, "_v": 7}, headers=headers), 409),
        (client.put(path, json={"name": "T", "items": [{"productCode": "NOPE", "quantity": 1}]},
                    headers=headers), 400),
        (client.put("/api/tickets/nope", json=good, headers=headers), 404),
        (client.put(path, data=b"{not json", headers={**headers,
                                                      "Content-Type": "application/json"}), 400),
    ]
    assert [r.status_code for r, _ in refused] == [code for _, code in refused]
    assert refused[4][0].get_json()["errorCode"] == 6
    assert refused[5][0].get_json()["errors"][0]["memberName"] == "items[0].productCode"
    # Flask read each body as sent.
    assert reached[3] == b'{"name": "", "items": []}' and reached[7] == b"{not json"
    assert len(reached) == len(refused)
    assert _orders(ticket_id) == 1
    assert client.get(path, headers=headers).get_json()["_v"] == 1


def test_a_token_the_view_refuses_is_refused_here_too(client, ticket, front, waiter):
    _, reached = front
    ticket_id, headers = ticket
    path = f"/api/tickets/{ticket_id}"
    good = {"name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]}

    def token_of(signed):
        digest = hash_secret(signed["Authorization"].split()[1])
        return db.session.scalar(select(Token).where(Token.token_hash == digest))
    revoked, expired = bearer(waiter, "POS-1"), bearer(waiter, "POS-1")
    token_of(revoked).revoked_at = utcnow()
    token_of(expired).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    gone = make_user("gone", ["ticketUpdate"])
    signed_out = bearer(gone, "POS-1")
    gone.is_active_user = False
    db.session.commit()
    assert [client.put(path, json=good, headers=refused).status_code
            for refused in (revoked, expired, signed_out)] == [401, 401, 401]
    assert len(reached) == 3 and _orders(ticket_id) == 1
    # An API key is the view's to check; it may update.
    _, key = create_api_key(user=waiter, name="Till")
    r = client.put(path, json=good, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and len(reached) == 4 and _orders(ticket_id) == 2


def test_what_only_flask_reads_goes_to_flask(client, ticket, front):
    _, reached = front
    ticket_id, headers = ticket
    path = f"/api/tickets/{ticket_id}"
    body = {"name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]}
    # If-Match names the version in a header: the view reads it.
    r = client.put(path, json=body, headers={**headers, "If-Match": '"5"'})
    assert r.status_code == 409 and len(reached) == 1
    r = client.put(path, json=body, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"' and len(reached) == 2
    # A JSON body under another media type, and a closed ticket.
    assert client.put(path, data=b'{"name": "T", "items": []}', headers={
        **headers, "Content-Type": "application/merge-patch+json"}).status_code in (200, 400)
    assert len(reached) == 3
    assert client.post(f"/api/tickets/{ticket_id}/close", headers=headers).status_code == 200
    assert len(reached) == 4 and reached[3] == b""  # a POST: passed on, never read
    r = client.put(path, json=body, headers=headers)
    assert r.status_code == 409 and r.get_json()["errors"][0]["memberName"] == "isClosed"


def test_the_early_answer_leaves_the_request_line(client, ticket, front, request_log):
    ticket_id, headers = ticket
    r = client.put(f"/api/tickets/{ticket_id}", headers={**headers, "X-Request-Id": "till-7.abc123"},
                   json={"name": "Table 1", "items": [{"productCode": "COLA", "quantity": 2}]})
    assert r.status_code == 200 and r.headers["X-Request-Id"] == "till-7.abc123"
    line = request_log()[-1]
    assert (line.method, line.path, line.status, line.user, line.requestId) == \
        ("PUT", f"/api/tickets/{ticket_id}", 200, "waiter", "till-7.abc123")


def test_an_early_update_that_drops_and_adds_lines_makes_the_void_and_the_order(
        client, front, catalog, waiter):
    """The products read ahead are those of the new lines: a dropped line's (BURGER) is read
    after, and its void still goes where the original went."""
    _, reached = front
    headers = bearer(waiter, "POS-1")
    made = client.post("/api/tickets", headers=headers, json={"name": "Table 2", "items": [
        {"productCode": "BURGER", "quantity": 2}, {"productCode": "COLA", "quantity": 1}]})
    ticket_id, created = made.get_json()["id"], len(reached)  # a POST: Flask's
    r = client.put(f"/api/tickets/{ticket_id}", headers=headers, json={
        "name": "Table 2", "items": [{"productCode": "COLA", "quantity": 3},
                                     {"productCode": "FRIES", "quantity": 1}]})
    assert r.status_code == 200 and len(reached) == created
    db.session.expire_all()
    orders = db.session.scalars(select(Order).where(Order.ticket_id == ticket_id)
                                .order_by(Order.number)).all()
    assert len(orders) == 3
    added, void = (orders[1], orders[2]) if not orders[1].is_void else (orders[2], orders[1])
    assert [(i.product_code, i.quantity) for i in added.items] == [("COLA", 2), ("FRIES", 1)]
    assert sorted(e.station.name for e in added.entries) == ["Bar", "Kitchen"]
    assert [(i.product_code, i.quantity) for i in void.items] == [("BURGER", -2)]
    assert sorted(e.station.name for e in void.entries) == ["Kitchen", "Pass"]
