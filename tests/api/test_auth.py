"""Sign-in, refresh, sign-out and the token rules of contract 4.4; the create-user command."""
import re
from datetime import timedelta

from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models import Token, User, utcnow
from tests.conftest import PASSWORD, make_user

PROBLEM = "application/problem+json"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def sign_in(client, **body):
    return client.post("/api/auth", json=body)


def auth(token_id: str) -> dict:
    return {"Authorization": f"Bearer {token_id}"}


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401, response.json
    assert response.mimetype == PROBLEM
    assert response.json["errorCode"] == 1


def test_sign_in_answers_a_token_pair_and_the_user(client, catalog, waiter):
    r = sign_in(client, userName="waiter", password=PASSWORD, deviceName="POS-1")
    assert r.status_code == 200, r.json
    body = r.json
    assert set(body) == {"tokenId", "refreshToken", "expiresAt", "user"}
    assert body["tokenId"] and body["refreshToken"] and body["tokenId"] != body["refreshToken"]
    assert ISO_Z.match(body["expiresAt"])
    assert body["user"] == {"id": waiter.id, "userName": "waiter", "name": "Wendy",
                            "rights": ["ticketCreate", "ticketUpdate"],
                            "device": {"name": "POS-1"}}
    me = client.get("/api/auth", headers=auth(body["tokenId"]))
    assert me.status_code == 200
    assert me.json == body["user"]


def test_sign_in_without_a_device_and_with_any_case_of_keys(client, waiter):
    r = client.post("/api/auth", json={"USERNAME": "waiter", "PassWord": PASSWORD})
    assert r.status_code == 200, r.json
    assert r.json["user"]["device"] is None
    r = client.post("/api/auth", json={"username": "waiter", "password": PASSWORD,
                                       "devicename": "Bar tablet"})
    assert r.status_code == 200, r.json
    assert r.json["user"]["device"] == {"name": "Bar tablet"}


def test_wrong_password_and_unknown_user_answer_alike(client, waiter):
    wrong = sign_in(client, userName="waiter", password="not-the-password")
    unknown = sign_in(client, userName="nobody", password=PASSWORD)
    for r in (wrong, unknown):
        assert_unauthenticated(r)
    assert db.session.scalar(select(func.count()).select_from(Token)) == 0

    def comparable(r):
        return {k: v for k, v in r.json.items() if k not in ("traceId", "instance")}

    assert comparable(wrong) == comparable(unknown)
    assert wrong.json["traceId"] != unknown.json["traceId"]


def test_sign_in_refuses_a_missing_member_and_an_unknown_one(client, waiter):
    r = client.post("/api/auth", json={"userName": "waiter"})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["password"]
    r = client.post("/api/auth", json={"userName": "waiter", "password": PASSWORD, "pin": "1"})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["pin"]


def test_refresh_gives_a_new_pair_and_retires_the_old_one(client, waiter):
    old = sign_in(client, userName="waiter", password=PASSWORD).json
    r = client.post("/api/auth/refresh",
                    json={"tokenId": old["tokenId"], "refreshToken": old["refreshToken"]})
    assert r.status_code == 200, r.json
    new = r.json
    assert new["tokenId"] != old["tokenId"] and new["refreshToken"] != old["refreshToken"]
    assert new["user"]["userName"] == "waiter"
    assert client.get("/api/auth", headers=auth(new["tokenId"])).status_code == 200
    assert_unauthenticated(client.get("/api/auth", headers=auth(old["tokenId"])))
    # The old refresh token cannot be spent twice, and cannot refresh the new token either.
    assert_unauthenticated(client.post("/api/auth/refresh", json={
        "tokenId": old["tokenId"], "refreshToken": old["refreshToken"]}))
    assert_unauthenticated(client.post("/api/auth/refresh", json={
        "tokenId": new["tokenId"], "refreshToken": old["refreshToken"]}))
    assert client.get("/api/auth", headers=auth(new["tokenId"])).status_code == 200


def test_refresh_with_a_wrong_refresh_token_changes_nothing(client, waiter):
    pair = sign_in(client, userName="waiter", password=PASSWORD).json
    assert_unauthenticated(client.post("/api/auth/refresh", json={
        "tokenId": pair["tokenId"], "refreshToken": pair["tokenId"]}))
    assert client.get("/api/auth", headers=auth(pair["tokenId"])).status_code == 200


def test_sign_out_ends_the_token(client, waiter):
    pair = sign_in(client, userName="waiter", password=PASSWORD).json
    other = sign_in(client, userName="waiter", password=PASSWORD).json
    r = client.delete("/api/auth", headers=auth(pair["tokenId"]))
    assert r.status_code == 204
    assert_unauthenticated(client.get("/api/auth", headers=auth(pair["tokenId"])))
    assert_unauthenticated(client.delete("/api/auth", headers=auth(pair["tokenId"])))
    assert_unauthenticated(client.post("/api/auth/refresh", json={
        "tokenId": pair["tokenId"], "refreshToken": pair["refreshToken"]}))
    # Signing out ends that token only, not the user's other sessions.
    assert client.get("/api/auth", headers=auth(other["tokenId"])).status_code == 200


def test_an_expired_token_answers_401(app, client, waiter):
    lifetime = app.config["TOKEN_LIFETIME"]
    app.config["TOKEN_LIFETIME"] = timedelta(seconds=-1)
    try:
        expired = sign_in(client, userName="waiter", password=PASSWORD).json
    finally:
        app.config["TOKEN_LIFETIME"] = lifetime
    assert_unauthenticated(client.get("/api/auth", headers=auth(expired["tokenId"])))

    live = sign_in(client, userName="waiter", password=PASSWORD).json
    assert client.get("/api/auth", headers=auth(live["tokenId"])).status_code == 200
    db.session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_unauthenticated(client.get("/api/auth", headers=auth(live["tokenId"])))


def test_tokens_are_stored_only_as_hashes(client, waiter):
    pair = sign_in(client, userName="waiter", password=PASSWORD).json
    rows = db.session.execute(text("SELECT * FROM tokens")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert pair["tokenId"] not in stored
    assert pair["refreshToken"] not in stored


def test_passwords_are_stored_as_argon2_hashes(app, waiter):
    stored = db.session.scalar(select(User.password_hash).where(User.user_name == "waiter"))
    assert stored.startswith("$argon2")
    assert PASSWORD not in stored


def test_create_user_command_creates_and_updates_a_user(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "kim", "--password", "first-password",
                                 "--name", "Kim", "--rights", "orderread, TICKETCREATE"])
    assert result.exit_code == 0, result.output
    r = sign_in(client, userName="kim", password="first-password")
    assert r.status_code == 200
    assert r.json["user"]["name"] == "Kim"
    assert r.json["user"]["rights"] == ["orderRead", "ticketCreate"]

    result = runner.invoke(args=["create-user", "kim", "--password", "second-password",
                                 "--rights", "admin"])
    assert result.exit_code == 0, result.output
    assert_unauthenticated(sign_in(client, userName="kim", password="first-password"))
    r = sign_in(client, userName="kim", password="second-password")
    assert r.status_code == 200
    assert r.json["user"]["name"] == "Kim"  # kept: no --name given
    assert r.json["user"]["rights"] == ["admin"]
    assert db.session.scalar(select(User.password_hash).where(User.user_name == "kim")) \
        .startswith("$argon2")


def test_create_user_command_refuses_an_unknown_right(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "lee", "--password", "a-long-password",
                                 "--rights", "orderRead,superuser"])
    assert result.exit_code != 0
    assert "superuser" in result.output
    assert db.session.scalar(select(User).where(User.user_name == "lee")) is None

    make_user("lee", ["orderRead"])
    result = runner.invoke(args=["create-user", "lee", "--password", "a-long-password",
                                 "--rights", "superuser"])
    assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.user_name == "lee")).rights == ["orderRead"]
    # The refused command left the password alone too.
    assert sign_in(client, userName="lee", password=PASSWORD).status_code == 200
