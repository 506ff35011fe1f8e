"""The station alarm: a banner on the dashboard and the expo while an active station fails or
no screen watches it; screens say they are there; the stations page shows health and what
waits."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Station, StationScreen
from app.services import kiosk_links, station_health, stations
from tests.conftest import make_ticket
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def failing_grill(app, catalog):
    stations.create_station(name="Grill", type="printer", address="127.0.0.1:9",
                            backup_station_name="Kitchen")
    db.session.execute(update(Station).where(Station.name == "Grill")
                       .values(failed_attempts=app.config["STATION_FAILING_ATTEMPTS"]))
    db.session.commit()


def banner(html: str) -> str:
    found = re.search(r'<div id="station-alarms".*?</div>\s*</div>'
                      r'|<div id="station-alarms"[^>]*>\s*</div>', html, re.S)
    assert found, "no alarm region"
    return found.group(0)


def test_no_banner_while_every_station_is_fine(client, catalog, manager):
    sign_in(client, manager)
    for page in ("/orders", "/kiosk/expo"):
        html = client.get(page).get_data(as_text=True)
        assert 'hx-get="/station-alarms"' in html, page
        assert "Station alarm" not in html, page


def test_the_dashboard_and_the_expo_show_a_failing_station(client, failing_grill, manager):
    sign_in(client, manager)
    for page in ("/orders", "/kiosk/expo", "/station-alarms"):
        html = client.get(page).get_data(as_text=True)
        assert "Station alarm" in banner(html), page
        assert "Grill is failing (its last sends failed); backup Kitchen" in html, page
    fragment = client.get("/station-alarms", headers=HTMX)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="station-alarms"') and "Grill is failing" in body
    assert fragment.headers["Cache-Control"] == "no-store"
    # Switched off, it is no alarm.
    stations.set_station_active("Grill", is_active=False)
    assert "Station alarm:" not in client.get("/station-alarms").get_data(as_text=True)


def test_the_expo_kiosk_link_sees_the_alarm_and_a_station_link_does_not(
        client, failing_grill, admin):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Expo")
    assert client.get(f"/kiosk/expo?key={secret}").status_code == 303
    assert "Grill is failing" in client.get("/kiosk/expo").get_data(as_text=True)
    other = client.application.test_client()
    _, station_secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                      name="Kitchen")
    assert other.get(f"/kiosk/Kitchen?key={station_secret}").status_code == 303
    assert other.get("/station-alarms").status_code == 403


def test_a_customer_sees_no_banner(client, failing_grill, customer):
    sign_in(client, customer)
    assert "Station alarm" not in client.get("/orders").get_data(as_text=True)
    assert client.get("/station-alarms").status_code == 403


def test_an_unwatched_display_raises_the_alarm(app, client, catalog, manager):
    app.config["STATION_SEEN_WRITE_SECONDS"] = 0
    sign_in(client, manager)
    assert client.get("/kiosk/Kitchen").status_code == 200  # a screen shows Kitchen
    [screen] = db.session.scalars(db.select(StationScreen)).all()
    assert client.get("/kiosk/Kitchen?version=0", headers=HTMX).status_code in (200, 204)
    assert "Kitchen is not watched" not in client.get("/station-alarms").get_data(as_text=True)
    gone = timedelta(seconds=app.config["STATION_UNWATCHED_SECONDS"] + 1)
    db.session.execute(update(StationScreen).values(last_seen_at=screen.last_seen_at - gone))
    db.session.commit()
    assert "Kitchen is not watched" in client.get("/station-alarms").get_data(as_text=True)


def test_the_stations_page_shows_health_backup_and_what_waits(client, catalog, admin, waiter,
                                                              failing_grill):
    stations.set_station_active("Kitchen", is_active=False)
    make_ticket(waiter, catalog, ("FRIES", 2), name="Table 1")
    sign_in(client, admin)
    html = client.get("/admin/stations").get_data(as_text=True)
    row = html[html.index('id="station-Kitchen"'):]
    row = row[:row.index("</tr>")]
    assert re.search(r'class="waiting"[^>]*>1<', row)
    grill = html[html.index('id="station-Grill"'):]
    grill = grill[:grill.index("</tr>")]
    assert "failing" in grill and "<td>Kitchen</td>" in grill
    form = client.get("/admin/stations/Grill").get_data(as_text=True)
    assert '<option selected value="Kitchen">Kitchen</option>' in form
    assert station_health.waiting_counts()
