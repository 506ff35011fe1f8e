"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

The server runs in a thread of the test process on the same database as the `app` fixture, so
each test builds its data with the services and then looks at it as a person would.
"""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never a downloaded browser: the system's Chromium, with its calls home switched off.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


_servers: dict[int, LiveServer] = {}


@pytest.fixture
def live_server(app):
    """One server per database for the whole run; data comes and goes with `app`."""
    if id(app) not in _servers:
        _servers[id(app)] = LiveServer(app)
    return _servers[id(app)]


@pytest.fixture
def screenshot(app):
    """Save a full-page screenshot under tests/artifacts/, named per database."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str):
        path = ARTIFACTS / f"{name}-{app.config['DB_KIND']}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


def pytest_sessionfinish(session, exitstatus):
    for server in _servers.values():
        server.stop()
