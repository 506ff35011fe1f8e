"""Sign-in rate limits (app.http.limits): per account and per address, on the dashboard and the API,
in memory for one process and in Redis for several."""
import socket
import uuid

import pytest

from app.extensions import db
from tests.conftest import PASSWORD, make_app, make_user

PROBLEM = "application/problem+json"


@pytest.fixture
def limited(app):
    """Apps with the limits on (tests run with them off), on the test database."""
    made = []

    def build(**overrides):
        settings = {"RATELIMIT_ENABLED": True, "SIGN_IN_LIMIT_PER_ACCOUNT": "3 per minute",
                    "SIGN_IN_LIMIT_PER_ADDRESS": "100 per minute",
                    "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
        other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], **{**settings, **overrides})
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.engine.dispose()


def api_sign_in(client, user_name, password, address="10.0.0.1", **body):
    return client.post("/api/auth", json={"userName": user_name, "password": password, **body},
                       environ_base={"REMOTE_ADDR": address})


def form_sign_in(client, user_name, password, address="10.0.0.1"):
    return client.post("/sign-in", data={"user_name": user_name, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_a_deeply_nested_sign_in_body_is_refused_not_a_server_error(limited):
    # The limits read the user name from the body before the view does.
    client = limited().test_client()
    r = client.post("/api/auth", data="[" * 5000 + "]" * 5000, content_type="application/json",
                    environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 400 and r.mimetype == PROBLEM
    assert [e["memberName"] for e in r.json["errors"]] == ["body"]


def test_failed_attempts_on_one_account_are_limited_from_any_address(limited, waiter):
    client = limited().test_client()
    for n in range(3):
        assert api_sign_in(client, "waiter", "wrong", f"10.0.0.{n}").status_code == 401
    # Even the right password now waits: the account is being guessed at.
    r = api_sign_in(client, "waiter", PASSWORD, "10.0.0.9")
    assert r.status_code == 429 and r.mimetype == PROBLEM
    assert r.json["status"] == 429 and "Too many sign-in attempts" in r.json["detail"]
    assert r.json["traceId"] == r.headers["X-Request-Id"]
    assert 0 < int(r.headers["Retry-After"]) <= 60
    # Another account is not affected.
    make_user("cook", ["orderUpdate"])
    assert api_sign_in(client, "cook", PASSWORD, "10.0.0.9").status_code == 200


def test_the_account_is_the_user_name_in_any_case_and_any_spelling_of_the_member(limited, waiter):
    client = limited().test_client()
    for name in ("waiter", "WAITER", " Waiter "):
        assert api_sign_in(client, name, "wrong").status_code == 401
    r = client.post("/api/auth", json={"UserName": "waiter", "Password": PASSWORD})
    assert r.status_code == 429


def test_successful_sign_ins_cost_nothing_per_account(limited, waiter):
    client = limited().test_client()
    for _ in range(5):
        assert api_sign_in(client, "waiter", PASSWORD).status_code == 200


def test_attempts_from_one_address_are_limited_across_accounts(limited, waiter):
    client = limited(SIGN_IN_LIMIT_PER_ADDRESS="4 per minute").test_client()
    for n in range(4):
        assert api_sign_in(client, f"nobody-{n}", "guess", "10.0.0.7").status_code == 401
    assert api_sign_in(client, "waiter", PASSWORD, "10.0.0.7").status_code == 429
    assert api_sign_in(client, "waiter", PASSWORD, "10.0.0.8").status_code == 200


def test_the_dashboard_form_shares_the_limits_and_answers_a_page(limited, waiter):
    client = limited().test_client()
    assert form_sign_in(client, "waiter", "wrong").status_code == 401
    assert api_sign_in(client, "waiter", "wrong").status_code == 401
    assert form_sign_in(client, "waiter", "wrong").status_code == 401
    r = form_sign_in(client, "waiter", PASSWORD)
    assert r.status_code == 429 and r.mimetype == "text/html"
    assert "Too many sign-in attempts" in r.get_data(as_text=True)
    assert "Retry-After" in r.headers
    # Showing the form is not an attempt.
    assert client.get("/sign-in", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_other_routes_are_not_limited(limited, waiter):
    client = limited(SIGN_IN_LIMIT_PER_ADDRESS="1 per minute").test_client()
    assert api_sign_in(client, "waiter", PASSWORD).status_code == 200
    for _ in range(5):
        assert client.get("/health", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_is_up(), reason="no Redis at 127.0.0.1:6379")
def test_with_redis_several_workers_count_together(limited, waiter):
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    workers = [limited(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
                       RATELIMIT_KEY_PREFIX=prefix).test_client() for _ in range(3)]
    for worker in workers:
        assert api_sign_in(worker, "waiter", "wrong").status_code == 401
    assert api_sign_in(workers[0], "waiter", PASSWORD).status_code == 429


def test_without_its_storage_the_limiter_counts_in_memory_rather_than_fail(limited, waiter):
    client = limited(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0").test_client()
    assert api_sign_in(client, "waiter", PASSWORD).status_code == 200
    for _ in range(3):
        assert api_sign_in(client, "waiter", "wrong").status_code == 401
    assert api_sign_in(client, "waiter", PASSWORD).status_code == 429
