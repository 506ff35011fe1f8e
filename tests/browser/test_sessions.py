"""Sessions as people meet them, in Chromium: "Sign out everywhere" in one browser ends the
session and the remember-me cookie of another."""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def csrf_on(app):
    """The real thing: the sign-out forms must carry the CSRF token from the page."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def sign_in_remembered(page, url, user_name):
    page.goto(url + "/sign-in")
    page.get_by_label("User name").fill(user_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Keep me signed in").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders")


def opens_the_orders(browser, url, cookies) -> bool:
    """Whether a browser holding only these cookies gets the order list."""
    context = browser.new_context()
    try:
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(url + "/orders")
        return not re.search(r"/sign-in", page.url)
    finally:
        context.close()


def test_sign_out_everywhere_ends_another_browsers_session_and_remember_cookie(
        page, browser, live_server, manager, csrf_on, screenshot):
    url = live_server.url
    other = browser.new_context()
    try:
        other_page = other.new_page()
        sign_in_remembered(page, url, "manager")
        sign_in_remembered(other_page, url, "manager")
        cookies = {c["name"]: c for c in other.cookies()}
        session, remember = [cookies["session"]], [cookies["remember_token"]]
        # Either cookie alone signs a browser in, until...
        assert opens_the_orders(browser, url, session)
        assert opens_the_orders(browser, url, remember)

        # The person's own menu in the top bar holds the sign-out buttons.
        page.locator("header.topbar details.account summary").click()
        page.get_by_role("button", name="Sign out everywhere").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#messages")).to_contain_text("signed out on every browser")
        screenshot(page, "signed-out-everywhere")

        # The other browser is signed out at its next request, its remember-me cookie with it.
        other_page.reload()
        expect(other_page).to_have_url(re.compile(r"/sign-in"))
        expect(other_page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert not opens_the_orders(browser, url, session)
        assert not opens_the_orders(browser, url, remember)
    finally:
        other.close()
