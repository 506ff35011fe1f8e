"""Webhook stations' secrets at rest: encrypted under SECRET_ENCRYPTION_KEYS, decrypted only to
sign a delivery, and `flask rotate-secrets` for secrets saved in plain text before and for a new
key."""
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from app.core.errors import Conflict
from app.dispatch.worker import dispatcher_for
from app.extensions import db
from app.models import Station
from app.models.orders import OrderEvent
from app.services import products, stations
from tests.conftest import bearer, make_ticket, make_user
from tests.dispatch_fakes import WebhookReceiver

SECRET = "webhook-signing-secret-0123456789"
KEYS = "SECRET_ENCRYPTION_KEYS"


def stored(name: str) -> dict:
    """The station's secret columns as the database holds them."""
    db.session.commit()
    row = db.session.execute(text("SELECT secret, encrypted_secret FROM stations WHERE name = :n"),
                             {"n": name}).one()
    return {"plain": row[0], "encrypted": row[1]}


@pytest.fixture
def hook(app, catalog):
    """A webhook station (made by `make(receiver)`), and a product routed to it."""
    def make(receiver, secret=SECRET):
        stations.create_station(name="Delivery app", type="webhook", address=receiver.url,
                                secret=secret)
        products.create_product(code="PIZZA", name="Pizza", price=Decimal("11.00"),
                                station_names=["Delivery app"])
    return make


def deliver(app, waiter, catalog, receiver, count=1):
    """Make an order for the hook and wait until the receiver has `count` requests."""
    make_ticket(waiter, catalog, ("PIZZA", 1))
    dispatcher_for(app).drain()
    db.session.commit()
    return receiver.wait_for(count)


def test_a_secret_is_stored_encrypted_and_still_signs_the_delivery(app, hook, waiter,
                                                                   catalog):
    with WebhookReceiver(SECRET) as receiver:
        hook(receiver)
        columns = stored("Delivery app")
        assert columns["plain"] is None and SECRET not in columns["encrypted"]
        everything = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM stations"))
                              for v in row)
        assert SECRET not in everything
        [seen] = deliver(app, waiter, catalog, receiver)
    assert seen.signature_ok


def test_a_secret_set_through_the_api_is_encrypted_too(app, client, catalog):
    admin = make_user("root", ["admin"])
    created = client.post("/api/orderendpoints", headers=bearer(admin), json={
        "name": "Hook", "type": "webhook", "address": "https://example.com/in",
        "secret": SECRET})
    assert created.status_code == 201 and "secret" not in created.json
    first = stored("Hook")["encrypted"]
    assert first and SECRET not in first
    changed = client.put("/api/orderendpoints/Hook", headers=bearer(admin), json={
        "name": "Hook", "type": "webhook", "address": "https://example.com/in",
        "isActive": True, "secret": "another-secret-of-some-length"})
    assert changed.status_code == 200, changed.json
    assert stored("Hook")["encrypted"] not in (first, None)
    # Saved without a secret: the one stored is kept, as it is.
    kept = stored("Hook")["encrypted"]
    assert client.put("/api/orderendpoints/Hook", headers=bearer(admin), json={
        "name": "Hook", "type": "webhook", "address": "https://example.com/other",
        "isActive": True}).status_code == 200
    assert stored("Hook")["encrypted"] == kept


def test_rotate_secrets_encrypts_a_secret_saved_in_plain_text(app, hook, waiter, catalog):
    with WebhookReceiver(SECRET) as receiver:
        hook(receiver)
        # As saved before secrets were encrypted (the migration leaves them so).
        db.session.execute(text("UPDATE stations SET secret = :s, encrypted_secret = NULL "
                                "WHERE name = 'Delivery app'"), {"s": SECRET})
        db.session.commit()
        db.session.expire_all()
        [before] = deliver(app, waiter, catalog, receiver)  # still signs meanwhile
        result = app.test_cli_runner().invoke(args=["rotate-secrets"])
        assert result.exit_code == 0, result.output
        assert "1 station secret(s) now encrypted" in result.output
        columns = stored("Delivery app")
        assert columns["plain"] is None and SECRET not in columns["encrypted"]
        db.session.expire_all()
        [_, after] = deliver(app, waiter, catalog, receiver, count=2)
    assert before.signature_ok and after.signature_ok


def test_rotate_secrets_moves_every_secret_to_the_first_key(app, hook, waiter, catalog,
                                                             monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, KEYS, [old])
    with WebhookReceiver(SECRET) as receiver:
        hook(receiver)
        under_old = stored("Delivery app")["encrypted"]
        assert Fernet(old).decrypt(under_old.encode()).decode() == SECRET
        # The new key goes first; the old one still opens what it encrypted.
        monkeypatch.setitem(app.config, KEYS, [new, old])
        result = app.test_cli_runner().invoke(args=["rotate-secrets"])
        assert result.exit_code == 0, result.output
        under_new = stored("Delivery app")["encrypted"]
        assert Fernet(new).decrypt(under_new.encode()).decode() == SECRET
        # The old key can go now.
        monkeypatch.setitem(app.config, KEYS, [new])
        db.session.expire_all()
        [seen] = deliver(app, waiter, catalog, receiver)
    assert seen.signature_ok


def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(app, catalog,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, KEYS, [Fernet.generate_key().decode()])
    stations.create_station(name="Hook A", type="webhook", address="https://a.example/in",
                            secret=SECRET)
    monkeypatch.setitem(app.config, KEYS, [Fernet.generate_key().decode()])
    stations.create_station(name="Hook B", type="webhook", address="https://b.example/in",
                            secret=SECRET)
    before = (stored("Hook A"), stored("Hook B"))
    with pytest.raises(Conflict, match="opens the secret of Hook A; nothing was changed"):
        stations.encrypt_station_secrets()
    result = app.test_cli_runner().invoke(args=["rotate-secrets"])
    assert result.exit_code == 1 and "Hook A" in result.output
    db.session.expire_all()
    assert (stored("Hook A"), stored("Hook B")) == before


def test_outside_development_the_keys_are_required(app, client, hook, waiter, catalog,
                                                   monkeypatch):
    admin = make_user("root", ["admin"])
    with WebhookReceiver(SECRET) as receiver:
        hook(receiver)  # stored while the keys were there
        monkeypatch.setitem(app.config, KEYS, [])  # as in production with none set
        refused = client.post("/api/orderendpoints", headers=bearer(admin), json={
            "name": "Hook", "type": "webhook", "address": "https://example.com/in",
            "secret": SECRET})
        assert refused.status_code == 409 and refused.json["errorCode"] == 3
        assert "SECRET_ENCRYPTION_KEYS is not set" in refused.json["detail"]
        assert refused.json["errors"][0]["memberName"] == "secret"
        assert db.session.scalar(select(Station).where(Station.name == "Hook")) is None
        # A delivery cannot be signed: it fails, says why, and nothing is sent.
        _, (order,) = make_ticket(waiter, catalog, ("PIZZA", 1))
        dispatcher_for(app).drain()
        db.session.commit()
        assert receiver.wait_for(0) == []
        reasons = db.session.scalars(select(OrderEvent.detail).where(
            OrderEvent.order_id == order.id, OrderEvent.action == "dispatch failed")).all()
        assert reasons and "SECRET_ENCRYPTION_KEYS is not set" in reasons[0]
    result = app.test_cli_runner().invoke(args=["rotate-secrets"])
    assert result.exit_code == 1 and "SECRET_ENCRYPTION_KEYS is not set" in result.output


def test_development_derives_its_key_from_the_secret_key(app):
    from app.core import encryption

    assert app.config[KEYS] == [encryption.derived_key(app.config["SECRET_KEY"])]
    assert encryption.derived_key("one") != encryption.derived_key("two")


def test_a_station_that_becomes_a_webhook_is_given_its_secret(app):
    from app.core.errors import Invalid

    stations.create_station(name="Grill", type="display", secret="short")
    with pytest.raises(Invalid) as refused:
        stations.update_station("Grill", name="Grill", type="webhook", is_active=True,
                                address="https://example.com/in", settings={})
    assert [e.member_name for e in refused.value.errors] == ["secret"]
    stations.update_station("Grill", name="Grill", type="webhook", is_active=True,
                            address="https://example.com/in", settings={}, secret=SECRET)
    # A webhook keeps its secret when saved without one.
    stations.update_station("Grill", name="Grill", type="webhook", is_active=False,
                            address="https://example.com/in", settings={})
    assert stored("Grill")["encrypted"] is not None
