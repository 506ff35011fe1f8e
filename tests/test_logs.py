"""Structured request logs with the request id (app.http.logs), and the health endpoint."""
import io
import json
import logging

import pytest

from app.extensions import db
from app.http.logs import RequestIdFilter, json_formatter
from app.services import products
from tests.conftest import bearer, make_app


@pytest.fixture
def json_lines():
    """Root log output as the server writes it (JSON formatter, request id filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    for name in list(logging.root.manager.loggerDict):
        if name == "app" or name.startswith("app."):
            logging.getLogger(name).disabled = False  # see conftest.request_log
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_each_request_is_logged_once_with_its_id(client, waiter, request_log):
    ok = client.get("/api/products", headers=bearer(waiter))
    missing = client.get("/api/orders/nope", headers=bearer(waiter))
    first, second = request_log()
    assert (first.method, first.path, first.status) == ("GET", "/api/products", 200)
    assert first.requestId == ok.headers["X-Request-Id"]
    assert first.user == "waiter" and first.durationMs >= 0
    assert second.status == 404
    assert second.requestId == missing.headers["X-Request-Id"] == missing.json["traceId"]
    assert first.requestId != second.requestId


def test_the_logged_path_leaves_out_the_query_string(client, request_log):
    # Kiosk links carry their secret in the query string.
    client.get("/kiosk/Kitchen?key=secret-of-the-screen")
    (record,) = request_log()
    assert record.path == "/kiosk/Kitchen"
    assert "secret-of-the-screen" not in record.getMessage()


def test_a_request_id_from_the_proxy_is_kept_and_junk_is_replaced(client):
    given = client.get("/health", headers={"X-Request-Id": "lb-7f3a9c2e-0001"})
    assert given.headers["X-Request-Id"] == "lb-7f3a9c2e-0001"
    for junk in ("short", "spaces are not allowed", "x" * 65, '"quoted"'):
        answer = client.get("/health", headers={"X-Request-Id": junk})
        assert answer.headers["X-Request-Id"] != junk
        assert len(answer.headers["X-Request-Id"]) == 16


def test_logs_are_json_lines_and_an_error_carries_the_trace_id(client, waiter, monkeypatch,
                                                               json_lines):
    def explode():
        raise RuntimeError("boom")

    monkeypatch.setattr(products, "list_products", explode)
    r = client.get("/api/products", headers=bearer(waiter))
    assert r.status_code == 500
    trace_id = r.json["traceId"]
    lines = json_lines()
    error = next(line for line in lines if line["logger"] == "app.api.problems")
    assert error["level"] == "ERROR" and error["requestId"] == trace_id
    assert "Traceback" in error["exc_info"]  # the trace is in the log, never in the answer
    request = next(line for line in lines if line["logger"] == "app.requests")
    assert request["requestId"] == trace_id and request["status"] == 500
    assert request["event"] == "request" and request["time"]


def test_health_checks_the_database(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"}
    assert r.headers["Cache-Control"] == "no-store"


def test_health_answers_503_when_the_database_is_unreachable(json_lines):
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/none")
    try:
        r = app.test_client().get("/health")
    finally:
        with app.app_context():
            db.engine.dispose()
    assert r.status_code == 503
    assert r.json == {"status": "unavailable", "database": "unreachable"}
    assert "127.0.0.1" not in r.get_data(as_text=True)
    assert any(line["logger"] == "app.http.health" for line in json_lines())
