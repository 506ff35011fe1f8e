"""Setting the stage over HTTP before the load: API tokens, signed-in browser sessions, a kiosk
link, and the ids and values the rows ask for. Only the product's public routes are used, so
the benchmark drives exactly what a client or a browser drives."""
import html
import http.client
import json
import re
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET_URL = re.compile(r"data-secret>\s*([^<\s]+)\s*<")
VERSION = re.compile(r'"version":\s*"(\d+)"')


class SetupError(RuntimeError):
    pass


class Browser:
    """A tiny HTTP client with a cookie jar; redirects are not followed."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict | None = None, expect=(200,)) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.status not in expect:
            raise SetupError(f"{method} {path} answered {response.status}: {text[:300]}")
        return response.status, dict(response.headers), text

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, body=urlencode(data).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded"}, **kwargs)

    def json(self, method: str, path: str, payload=None, token: str | None = None,
             expect=(200,)):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        _, _, text = self.request(method, path, body=body, headers=headers, expect=expect)
        return json.loads(text) if text else None


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    if not match:
        raise SetupError("No CSRF token on the page.")
    return html.unescape(match.group(1))


def api_token(port: int, user_name: str, password: str, device_name: str | None = None) -> str:
    body = {"userName": user_name, "password": password}
    if device_name:
        body["deviceName"] = device_name
    return Browser(port).json("POST", "/api/auth", body)["tokenId"]


def signed_in(port: int, user_name: str, password: str) -> Browser:
    """A browser signed in to the dashboard through the sign-in form."""
    browser = Browser(port)
    _, _, page = browser.get("/sign-in")
    browser.post_form("/sign-in", {"csrf_token": csrf_token(page), "user_name": user_name,
                                   "password": password}, expect=(302, 303))
    # Then where the sign-in sends it, as a browser follows the redirect: that first page
    # completes the session (its CSRF secret), and the cookie it sets is the one kept after.
    browser.get("/orders")
    return browser


def kiosk_links(admin: Browser, screens: list[tuple[str, str]]) -> list[str]:
    """The secret addresses of new kiosk links, one per (station, link name), made by an admin
    on the admin page as in the product."""
    _, _, page = admin.get("/admin/kiosk-links")
    links = []
    for station, name in screens:
        # The page that answers the form carries a fresh form, and its token serves the next.
        status, headers, page = admin.post_form("/admin/kiosk-links", {
            "csrf_token": csrf_token(page), "name": name, "target": station},
            expect=(200, 201, 303))
        if status == 303:  # the new link is shown once, on the page the form leads to
            _, _, page = admin.get(urlsplit(headers["Location"]).path or "/admin/kiosk-links")
        match = SECRET_URL.search(page)
        if not match:
            raise SetupError("The kiosk link page showed no link.")
        links.append(html.unescape(match.group(1)))
    return links


def open_screen(port: int, link: str) -> Browser:
    """A browser signed in as a wall screen by opening its kiosk link."""
    address = urlsplit(link)
    screen = Browser(port)
    screen.get(f"{address.path}?{address.query}", expect=(302, 303))
    return screen


def change_version(page: str) -> str:
    match = VERSION.search(page)
    if not match:
        raise SetupError("No change counter on the screen.")
    return match.group(1)
