"""Security promises: headers and CSP, cookie flags, a fresh session on sign-in, CSRF,
request size limits, proxies, secrets stored as hashes, and no internals in any error answer."""
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import orders, users
from tests.conftest import PASSWORD, bearer, make_app, make_user

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = "application/problem+json"


@pytest.fixture
def variant(app):
    """An app on the test database with other settings; its connections go with the test."""
    made = []

    def build(**overrides):
        other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], **overrides)
        made.append(other)
        return other.test_client()

    yield build
    for other in made:
        with other.app_context():
            db.engine.dispose()


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


@pytest.mark.parametrize("path", ["/sign-in", "/api/orders", "/static/js/app.js", "/health",
                                  "/no-such-page"])
def test_every_answer_carries_the_security_headers(client, path):
    r = client.get(path)
    csp = csp_directives(r)
    for directive in ("default-src", "script-src", "style-src"):
        assert csp[directive] == "'self'", csp
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in r.headers["Content-Security-Policy"]
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert "geolocation=()" in r.headers["Permissions-Policy"]
    # Plain HTTP: no HSTS (browsers ignore it there, and it must not leak into dev setups).
    assert "Strict-Transport-Security" not in r.headers


def test_hsts_only_over_https(client):
    r = client.get("/sign-in", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# What the CSP forbids must not be in the markup or the scripts, or the page breaks silently.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style= attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "on...= handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "hx-on (needs eval)": re.compile(r"\bhx-on", re.IGNORECASE),
    "js: in hx-vals (needs eval)": re.compile(r"hx-vals=['\"]\s*js:", re.IGNORECASE),
}
SCRIPT_EVAL = {
    "eval()": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"new\s+Function\b"),
    "string timer": re.compile(r"set(?:Timeout|Interval)\s*\(\s*['\"]"),
    "style attribute": re.compile(r"setAttribute\(\s*['\"]style['\"]"),
}


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        source = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {name}" for name, pattern in INLINE.items()
                  if pattern.search(source)]
    assert found == []


def test_no_script_of_ours_needs_eval_or_inline_styles():
    found = []
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        source = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {name}" for name, pattern in SCRIPT_EVAL.items()
                  if pattern.search(source)]
    assert found == []


def test_htmx_is_told_not_to_inject_its_indicator_styles():
    # htmx adds a <style> element for its indicators unless configured not to; the CSP would
    # block it and log a violation on every page.
    for layout in ("base.html", "kiosk/layout.html"):
        source = (ROOT / "templates" / layout).read_text()
        assert '"includeIndicatorStyles": false' in source, layout


def _cookie(response, name: str) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))


def _sign_in(client, **form):
    return client.post("/sign-in", data={"user_name": "waiter", "password": PASSWORD, **form})


def test_session_cookies_are_httponly_and_samesite_lax(client, waiter):
    r = _sign_in(client, remember="y")
    assert r.status_code == 303
    for name in ("session", "remember_token"):
        cookie = _cookie(r, name)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
        assert "Secure" not in cookie  # plain HTTP in development


def test_behind_https_cookies_are_secure_and_http_is_redirected(variant, waiter):
    client = variant(HTTPS=True, PROXY_FIX_HOPS=1)
    plain = "http://localhost"
    r = client.get("/sign-in", base_url=plain)
    assert r.status_code == 302 and r.headers["Location"] == "https://localhost/sign-in"
    # The health probe of a load balancer speaks plain HTTP and is answered.
    assert client.get("/health", base_url=plain).status_code == 200

    # The proxy in front terminates TLS and says so.
    https = {"X-Forwarded-Proto": "https"}
    r = client.post("/sign-in", base_url=plain, headers=https, data={
        "user_name": "waiter", "password": PASSWORD, "remember": "y"})
    assert r.status_code == 303
    for name in ("session", "remember_token"):
        assert "Secure" in _cookie(r, name)
    assert "Strict-Transport-Security" in r.headers


def test_the_client_address_comes_from_a_proxy_only_when_one_is_trusted(variant, request_log):
    # The address keys the per-address sign-in limit and the logs: a client must not pick it.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    variant().get("/health", headers=forwarded)
    variant(PROXY_FIX_HOPS=1).get("/health", headers=forwarded)
    addresses = [r.remoteAddr for r in request_log()]
    assert addresses == ["127.0.0.1", "203.0.113.9"]


def test_sign_in_starts_a_new_session(client, waiter):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before sign-in"
    before = client.get_cookie("session").value
    assert _sign_in(client).status_code == 303
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{waiter.id}:{waiter.session_version}"


def test_a_form_post_without_csrf_token_is_refused(variant, waiter):
    client = variant(WTF_CSRF_ENABLED=True)
    r = client.post("/sign-in", data={"user_name": "waiter", "password": PASSWORD})
    assert r.status_code == 400
    assert "did not come from this site" in r.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    # With the token from the form, the same post signs in.
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/sign-in", data={"user_name": "waiter", "password": PASSWORD,
                                      "csrf_token": token})
    assert r.status_code == 303


def test_the_api_needs_no_csrf_token_because_it_takes_no_cookies(variant, waiter):
    client = variant(WTF_CSRF_ENABLED=True)
    r = client.post("/api/auth", json={"userName": "waiter", "password": PASSWORD})
    assert r.status_code == 200
    assert r.headers.get("Set-Cookie") is None


def test_an_oversized_body_is_refused_with_413(client, variant, waiter):
    big = b"x" * (1024 * 1024 + 1)
    r = client.post("/api/tickets", data=big, content_type="application/json",
                    headers=bearer(waiter))
    assert r.status_code == 413 and r.mimetype == PROBLEM
    assert r.json["status"] == 413 and r.json["traceId"] == r.headers["X-Request-Id"]
    # Even where the route reads no body at all.
    r = client.post("/api/basket", data=big, content_type="application/json",
                    headers=bearer(waiter))
    assert r.status_code == 413 and r.mimetype == PROBLEM
    r = client.post("/sign-in", data={"user_name": "x" * (1024 * 1024 + 1), "password": "p"})
    assert r.status_code == 413 and r.mimetype == "text/html"
    # The limit is a setting.
    small = variant(MAX_CONTENT_LENGTH=100)
    r = small.post("/api/auth", json={"userName": "waiter", "password": "p" * 100})
    assert r.status_code == 413


def test_tokens_and_api_keys_are_stored_only_as_hashes(client, waiter):
    r = client.post("/api/auth", json={"userName": "waiter", "password": PASSWORD})
    secrets = [r.json["tokenId"], r.json["refreshToken"]]
    _, key = users.create_api_key(user=waiter, name="till")
    secrets.append(key)
    stored = []
    for table in ("tokens", "api_keys", "users"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            stored += [str(value) for value in row]
    for secret in secrets:
        assert not any(secret in value for value in stored)
    assert users.hash_secret(secrets[0]) in stored
    assert PASSWORD not in stored  # passwords: argon2 hashes only


def test_no_stack_trace_or_sql_in_an_html_error(client, waiter, monkeypatch):
    manager = make_user("boss", ["orderRead"])

    def explode(**kwargs):
        raise RuntimeError("SELECT password_hash FROM users -- postgres://admin:hunter2@db")

    monkeypatch.setattr(orders, "list_orders", explode)  # the dashboard's list
    monkeypatch.setattr(orders, "list_order_keys", explode)  # the API's
    client.post("/sign-in", data={"user_name": manager.user_name, "password": PASSWORD})
    r = client.get("/orders")
    assert r.status_code == 500
    page = r.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "SELECT", "hunter2", 'File "'):
        assert leak not in page
    api = client.get("/api/orders", headers=bearer(manager))
    assert api.status_code == 500 and "SELECT" not in api.get_data(as_text=True)


def test_a_nul_character_is_refused_not_a_server_error(client, catalog, waiter, admin):
    # PostgreSQL cannot store or compare NUL in text: each of these was a 500 there.
    r = client.post("/api/tickets", headers=bearer(waiter), json={
        "name": "Table\x00", "items": [{"productCode": "BURGER", "quantity": 1, "note": "a\x00"}]})
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["name", "items[0].note"]
    r = client.post("/api/orderendpoints", headers=bearer(admin), json={"name": "Grill\x00"})
    assert r.status_code == 400 and r.json["errors"][0]["memberName"] == "name"
    r = client.get("/api/orders/a%00b", headers=bearer(waiter))
    assert r.status_code == 404 and r.mimetype == PROBLEM
    r = client.post("/sign-in", data={"user_name": "wai\x00ter", "password": PASSWORD})
    assert r.status_code == 400 and r.mimetype == "text/html"


# --- caching of secrets and pages -------------------------------------------------------------

def test_token_answers_are_never_stored(client, waiter):
    signed_in = client.post("/api/auth", json={"userName": "waiter", "password": PASSWORD})
    assert signed_in.status_code == 200
    assert signed_in.headers["Cache-Control"] == "no-store"
    refreshed = client.post("/api/auth/refresh", json={
        "tokenId": signed_in.json["tokenId"], "refreshToken": signed_in.json["refreshToken"]})
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"


def test_signed_in_pages_are_no_store_except_those_with_an_etag(client, catalog, waiter):
    from tests.conftest import make_ticket

    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    admin = make_user("boss", ["admin"])
    client.post("/sign-in", data={"user_name": admin.user_name, "password": PASSWORD})
    for path in ("/admin/users", "/admin/stations", "/admin/products", "/account/api-keys",
                 "/admin/kiosk-links", "/kiosk", "/kiosk/Kitchen", "/api-docs",
                 "/orders/no-such-order", f"/orders/{order.id}/delete"):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            assert response.mimetype == "text/html", path
            assert response.headers["Cache-Control"] == "no-store", (path, headers)
    # Answers with an ETag are asked again every time, but may be kept (app.http.etags).
    for path in ("/orders", f"/orders/{order.id}"):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            assert response.headers["ETag"], path
            assert response.headers["Cache-Control"] == "private, no-cache", (path, headers)
    # Redirects and the pages of signing in too: they carry the session's CSRF token.
    assert client.post("/orders/x/status", data={}).headers["Cache-Control"] == "no-store"
    client.post("/sign-out")
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    # Static files keep their own caching.
    assert client.get("/static/js/app.js").headers.get("Cache-Control") != "no-store"


# --- X-Forwarded-* only from a trusted proxy -------------------------------------------------

def test_x_forwarded_proto_counts_only_with_proxy_fix_hops(variant, waiter):
    https = {"X-Forwarded-Proto": "https"}
    # No proxy trusted: a client saying "https" is still on plain HTTP and is redirected.
    client = variant(HTTPS=True)
    r = client.get("/sign-in", base_url="http://localhost", headers=https)
    assert r.status_code == 302 and r.headers["Location"] == "https://localhost/sign-in"
    assert "Strict-Transport-Security" not in r.headers
    r = variant().get("/sign-in", headers=https)
    assert r.status_code == 200 and "Strict-Transport-Security" not in r.headers
    # One proxy trusted: its word counts.
    r = variant(HTTPS=True, PROXY_FIX_HOPS=1).get("/sign-in", headers=https)
    assert r.status_code == 200 and "Strict-Transport-Security" in r.headers


def test_gunicorn_trusts_no_forwarded_header_itself():
    # gunicorn would otherwise set the scheme from X-Forwarded-Proto for any process on the
    # host; only the app's ProxyFix (PROXY_FIX_HOPS) reads those headers.
    import runpy

    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("forwarded_allow_ips", settings["forwarded_allow_ips"])
    assert config.forwarded_allow_ips == []
