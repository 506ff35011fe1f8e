"""The dashboard under the app's own Content-Security-Policy (app.http.security), in Chromium: every
page and every htmx swap works, and the browser refuses nothing."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_dashboard import sign_in
from tests.conftest import make_ticket

pytestmark = pytest.mark.browser


def test_the_dashboard_runs_under_its_csp_without_a_violation(page, live_server, catalog,
                                                               waiter, admin):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
    refused = []
    # A policy the browser does not understand is said in the console too (a Permissions-Policy
    # naming a feature Chromium does not know, for one).
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text or "Policy" in message.text else None)
    answers = []
    page.on("response", lambda response: answers.append(response))

    sign_in(page, live_server, "admin")
    policy = answers[-1].headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy

    # The list refreshes itself, the order page swaps fragments in place.
    expect(page.locator("table.orders tbody tr")).to_have_count(1)
    page.get_by_role("link", name=str(order.number), exact=True).click()
    page.get_by_role("button", name="Mark Processing (item 2 Cola)").click()
    expect(page.locator("#item-2 td.cell[data-station=Bar]")).to_contain_text("Processing")
    for path in ("/admin/users", "/admin/stations", "/admin/products", "/account/api-keys",
                 "/api-docs"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders hub API")
    page.locator(".api-toc a[href=\"#op-create_ticket\"]").click()
    expect(page.locator("#op-create_ticket")).to_be_in_viewport()
    assert refused == []
