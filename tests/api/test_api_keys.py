"""Long-lived API keys carry their user's rights until revoked; only hashes are stored."""
import pytest
from sqlalchemy import select

from app.core.errors import NotFound
from app.extensions import db
from app.models import ApiKey
from app.services import users
from tests.conftest import make_user


def test_api_key_works_until_revoked(client, catalog, manager, customer):
    key, secret = users.create_api_key(user=manager, name="Kitchen display bridge")
    headers = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/auth", headers=headers)
    assert me.status_code == 200 and me.json["userName"] == "manager"
    assert client.get("/api/orders", headers=headers).status_code == 200
    # The key carries the user's rights, no more.
    assert client.post("/api/products", headers=headers,
                       json={"code": "X", "name": "X", "price": 1}).status_code == 403
    assert client.delete("/api/auth", headers=headers).status_code == 409
    with pytest.raises(NotFound):
        users.revoke_api_key(user=customer, key_id=key.id)
    assert client.get("/api/auth", headers=headers).status_code == 200
    users.revoke_api_key(user=manager, key_id=key.id)
    assert client.get("/api/auth", headers=headers).status_code == 401


def test_only_a_hash_of_the_key_is_stored(app, manager):
    _, secret = users.create_api_key(user=manager, name="CI")
    stored = db.session.scalar(select(ApiKey))
    assert secret not in (stored.key_hash, stored.prefix) and stored.key_hash == \
        users.hash_secret(secret)
    assert secret.startswith(stored.prefix)


def test_keys_of_an_inactive_user_stop_working(client, app):
    user = make_user("leaver", ["orderRead"])
    _, secret = users.create_api_key(user=user, name="script")
    user.is_active_user = False
    db.session.commit()
    assert client.get("/api/orders", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401
