"""Printer stations as a manager and an admin see them, in Chromium: the order page says the slip
was printed and offers Reprint; the station's admin page lists what was sent."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.services import products, stations
from tests.browser.test_dashboard import sign_in
from tests.conftest import make_ticket
from tests.dispatch_fakes import FakePrinter, decode_slip

pytestmark = pytest.mark.browser


@pytest.fixture
def grill(app, catalog):
    # The live server's own sender sends, as in production.
    app.config["DISPATCH_IN_BACKGROUND"] = True
    with FakePrinter() as printer:
        stations.create_station(name="Grill", type="printer", address=printer.address,
                                settings={"beep": "on"})
        products.create_product(code="STEAK", name="Steak", price=Decimal("24.00"),
                                station_names=["Grill", "Pass"], course=2)
        yield printer


def test_manager_sees_the_slip_printed_and_reprints_it(page, live_server, grill, waiter,
                                                        catalog, manager, screenshot):
    _, (order,) = make_ticket(waiter, catalog, ("STEAK", 2, "medium rare"), ("FRIES", 1),
                              name="Table 9")
    grill.wait_for(1)
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/orders/{order.id}")
    grill_head = page.locator("#station-Grill")
    expect(grill_head).to_contain_text("printed")
    screenshot(page, "order-page-printer")

    grill_head.get_by_role("button", name="Reprint for Grill").click()
    history = page.locator(".timeline")
    expect(history).to_contain_text("Reprint requested")
    expect(history).to_contain_text("Reprinted", timeout=5000)  # the 2 s live refresh
    assert "REPRINT" in decode_slip(grill.wait_for(2)[1]).text
    # Displays have nothing to reprint: no button there.
    expect(page.locator("#station-Pass").get_by_role("button", name="Reprint for Pass")) \
        .to_have_count(0)


def test_admin_reads_a_printers_deliveries(page, live_server, grill, waiter, catalog, admin,
                                           screenshot):
    _, (order,) = make_ticket(waiter, catalog, ("STEAK", 1), name="Table 4")
    grill.wait_for(1)
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/stations")
    page.get_by_role("link", name="Grill").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Station Grill")
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{order.number}")
    expect(rows.first).to_contain_text("sent")
    screenshot(page, "admin-station-deliveries")
