"""A station whose screen stops polling raises the alarm on the expo screen by itself; its
work goes to its backup, marked for it."""
import re
import time

import pytest
from playwright.sync_api import expect

from app.services import kiosk_links, stations
from tests.conftest import make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def short_watch(app):
    """A minute shortened to a few seconds, through the settings."""
    app.config.update(STATION_UNWATCHED_SECONDS=3, STATION_SEEN_WRITE_SECONDS=1)


def test_a_station_that_stops_polling_shows_the_alarm_on_expo(
        app, live_server, browser, page, admin, waiter, catalog, short_watch, screenshot):
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings={}, backup_station_name="Pass")
    _, kitchen_key = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                   name="Kitchen wall")
    _, expo_key = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Expo")
    make_ticket(waiter, catalog, ("FRIES", 2), name="Table 8")

    kitchen = browser.new_context().new_page()
    kitchen.goto(f"{live_server.url}/kiosk/Kitchen?key={kitchen_key}")
    expect(kitchen).to_have_url(re.compile(r"/kiosk/Kitchen$"))
    expect(kitchen.locator("article.card", has_text="Table 8")).to_be_visible()
    page.goto(f"{live_server.url}/kiosk/expo?key={expo_key}")
    expect(page).to_have_url(re.compile(r"/kiosk/expo$"))
    alarm = page.locator("#station-alarms")
    # While the Kitchen screen polls (several unwatched windows long), no alarm.
    time.sleep(4)
    expect(alarm).not_to_contain_text("Kitchen")

    started = time.monotonic()
    kitchen.context.close()  # the Kitchen screen goes dark
    expect(alarm).to_contain_text("Kitchen is not watched", timeout=90_000)
    assert time.monotonic() - started < 90
    expect(alarm.get_by_role("alert")).to_be_visible()
    screenshot(page, "expo-station-alarm")
