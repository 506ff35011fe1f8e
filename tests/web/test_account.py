"""A person's own settings (time zone, home screen), times shown in them, and the pages a
new user meets first: sign-in messages, the too-many-attempts page, a kiosk's error page."""
import re
from datetime import datetime

import pytest

from app.extensions import db
from app.models.orders import Order
from app.services import kiosk_links, stations, user_settings
from tests.conftest import make_ticket, make_user
from tests.test_limits import form_sign_in, limited  # noqa: F401  (the fixture)
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def amsterdam(app, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_TIMEZONE", "Europe/Amsterdam")


@pytest.fixture
def winter_order(catalog, waiter):
    """An order made at 2026-01-15 23:30 UTC: 00:30 the next day in Amsterdam."""
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    db.session.get(Order, order.id).created_at = datetime(2026, 1, 15, 23, 30)
    db.session.commit()
    return order


def test_times_are_shown_in_the_sites_zone_with_its_name(client, amsterdam, winter_order,
                                                         manager):
    sign_in(client, manager)
    for path in ("/orders", f"/orders/{winter_order.id}"):
        for headers in ({}, HTMX):
            html = client.get(path, headers=headers).get_data(as_text=True)
            assert '<time datetime="2026-01-15T23:30:00Z" title="2026-01-15 23:30 UTC">' \
                   "2026-01-16 00:30 CET</time>" in html, path
            assert "(UTC)" not in html


def test_a_persons_own_zone_wins_and_the_api_stays_utc(client, amsterdam, winter_order,
                                                       manager):
    from tests.conftest import bearer

    user_settings.update_settings(user=manager, time_zone="Asia/Tokyo", home_screen=None)
    sign_in(client, manager)
    html = client.get(f"/orders/{winter_order.id}").get_data(as_text=True)
    assert "2026-01-16 08:30 JST" in html
    api = client.get(f"/api/orders/{winter_order.id}", headers=bearer(manager))
    assert api.json["createdDateUtc"] == "2026-01-15T23:30:00.000Z"


def test_date_filters_mean_the_viewers_days(client, amsterdam, winter_order, manager):
    sign_in(client, manager)
    numbers = lambda html: re.findall(r'class="number"[^>]*>(\d+)<', html)
    # 00:30 on the 16th in Amsterdam, though the 15th in UTC.
    assert numbers(client.get("/orders?from=2026-01-16&to=2026-01-16").get_data(as_text=True)
                   ) == [str(winter_order.number)]
    assert numbers(client.get("/orders?from=2026-01-15&to=2026-01-15").get_data(as_text=True)
                   ) == []


def test_a_change_of_zone_changes_the_pages_etag(client, app, amsterdam, winter_order,
                                                 manager, monkeypatch):
    sign_in(client, manager)
    first = client.get("/orders")
    again = {"If-None-Match": first.headers["ETag"]}
    assert client.get("/orders", headers=again).status_code == 304
    monkeypatch.setitem(app.config, "SITE_TIMEZONE", "America/New_York")
    redrawn = client.get("/orders", headers=again)
    assert redrawn.status_code == 200 and "2026-01-15 18:30 EST" in redrawn.get_data(as_text=True)
    mine = {"If-None-Match": redrawn.headers["ETag"]}
    assert client.get("/orders", headers=mine).status_code == 304
    client.post("/account/settings", data={"time_zone": "Asia/Tokyo", "home_screen": "orders"})
    assert client.get("/orders", headers=mine).status_code == 200


# --- the settings page -------------------------------------------------------------------------

def test_settings_page_saves_zone_and_home_screen(client, amsterdam, catalog):
    cook = make_user("cook", ["orderRead", "orderUpdate"])
    sign_in(client, cook)
    page = client.get("/account/settings")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "The site&#39;s time zone (Europe/Amsterdam)" in html
    assert '<option value="station:Kitchen">The Kitchen screen</option>' in html
    saved = client.post("/account/settings", data={"time_zone": "Europe/Lisbon",
                                                   "home_screen": "station:Kitchen",
                                                   "_v": cook.version})
    assert saved.status_code == 303 and saved.headers["Location"] == "/account/settings"
    assert "Your settings were saved." in client.get("/account/settings").get_data(as_text=True)
    db.session.refresh(cook)
    assert (cook.time_zone, cook.home_screen) == ("Europe/Lisbon", "station:Kitchen")
    # Home: "/" and signing in lead to the Kitchen's screen.
    assert client.get("/").headers["Location"] == "/kiosk/Kitchen"
    client.post("/sign-out")
    assert sign_in(client, cook)
    signed_in = client.post("/sign-in", data={"user_name": "cook", "password": "x"})
    assert signed_in.status_code == 303  # already signed in: straight on
    assert client.get(signed_in.headers["Location"]).headers["Location"] == "/kiosk/Kitchen"


def test_signing_in_lands_on_the_home_screen(client, catalog):
    from tests.conftest import PASSWORD

    cook = make_user("cook", ["orderRead", "orderUpdate"])
    user_settings.update_settings(user=cook, time_zone=None, home_screen="expo")
    response = client.post("/sign-in", data={"user_name": "cook", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/kiosk/expo"


def test_a_home_screen_that_went_away_falls_back_to_the_order_list(client, catalog):
    cook = make_user("cook", ["orderRead"])
    user_settings.update_settings(user=cook, time_zone=None, home_screen="station:Bar")
    bar = stations.get_station("Bar")
    stations.update_station("Bar", name="Drinks", type="display", is_active=True, address=None,
                            settings={}, version=bar.version)
    sign_in(client, cook)
    assert client.get("/").headers["Location"] == "/orders"


def test_bad_settings_are_refused_in_the_forms_words(client, customer, catalog):
    sign_in(client, customer)
    html = client.get("/account/settings").get_data(as_text=True)
    assert "station:" not in html and "Home screen" not in html  # one choice: nothing to ask
    refused = client.post("/account/settings", data={"time_zone": "Mars/Olympus",
                                                     "home_screen": "station:Kitchen"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "&#39;Mars/Olympus&#39; is not a time zone" in body
    assert "Choose a home screen from the list." in body
    db.session.refresh(customer)
    assert customer.time_zone is None and customer.home_screen is None


def test_settings_drawn_in_another_tab_are_not_overwritten(client, customer):
    sign_in(client, customer)
    version = customer.version
    user_settings.update_settings(user=customer, time_zone="Europe/Paris", home_screen=None)
    stale = client.post("/account/settings", data={"time_zone": "UTC", "home_screen": "orders",
                                                   "_v": version})
    assert stale.status_code == 409 and "changed in another tab" in stale.get_data(as_text=True)
    db.session.refresh(customer)
    assert customer.time_zone == "Europe/Paris"


def test_the_settings_page_is_a_whole_page_under_htmx_too(client, customer):
    sign_in(client, customer)
    response = client.get("/account/settings", headers=HTMX)
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_settings_need_a_session(client):
    assert client.get("/account/settings").status_code == 302


# --- first meetings ------------------------------------------------------------------------

def test_too_many_sign_ins_answer_the_form_again(limited, waiter):  # noqa: F811
    client = limited().test_client()
    for _ in range(3):
        assert form_sign_in(client, "waiter", "wrong").status_code == 401
    refused = form_sign_in(client, "waiter", "wrong")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too many sign-in attempts" in html
    assert '<form method="post"' in html and 'name="user_name"' in html
    assert 'value="waiter"' in html  # what was typed stays


def test_a_kiosk_screens_error_page_offers_no_way_into_the_dashboard(client, catalog, admin):
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                                 name="Wall")
    client.get(f"/kiosk/Kitchen?key={secret}")
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    refused = client.get("/kiosk/Kitchen")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "kiosk link was revoked" in html
    assert "Back to the orders" not in html and "/orders" not in html
    assert 'class="kiosk"' in html
    # A signed-in person without the right still gets the way back.
    person = make_user("someone", ["ticketCreate"])
    client.delete_cookie("session")
    sign_in(client, person)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert "Back to the orders" in html


def test_favicon_and_a_permissions_policy_chromium_knows(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301
    icon = client.get(favicon.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert "bluetooth" not in icon.headers["Permissions-Policy"]
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in html
