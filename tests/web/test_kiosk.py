"""Kiosk screens and kiosk links over HTTP: full pages, fragments, the 204 poll, taps, and the
scope of a kiosk session (its own station only; everything else refused)."""
import re

import pytest

from app.core import status as S
from app.extensions import db
from app.models.orders import Order
from app.services import kiosk_links, order_status
from app.services.tickets import update_ticket
from tests.conftest import bearer, lines, make_ticket, make_user
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def shift(catalog, waiter):
    t1, (o1,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1), name="Table 1")
    _, (o2,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    return t1, o1, o2


@pytest.fixture
def kitchen_link(admin, shift):
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen",
                                           name="Kitchen wall")
    return link, secret


def as_kiosk(client, secret, station="Kitchen"):
    response = client.get(f"/kiosk/{station}?key={secret}")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def cards_in(html: str) -> list[str]:
    return re.findall(r'data-card="([^"]+)"', html)


def statuses(order_id, station="Kitchen"):
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    entry = next(e for e in order.entries if e.station.name == station)
    return [c.status for c in order.cells if c.entry_id == entry.id]


# --- the page, the fragment, the poll ---------------------------------------------------------

def test_anonymous_is_sent_to_sign_in_and_a_fragment_gets_401(client, shift):
    page = client.get("/kiosk/Kitchen")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    poll = client.get("/kiosk/Kitchen?version=1",
                      headers={**HTMX, "HX-Current-URL": "http://localhost/kiosk/Kitchen"})
    assert poll.status_code == 401
    assert poll.headers["HX-Redirect"] == "/sign-in?next=/kiosk/Kitchen"
    assert client.post(f"/kiosk/Kitchen/orders/{shift[1].id}/bump").status_code == 302
    assert statuses(shift[1].id) == [S.NEW, S.NEW]


def test_station_page_is_a_full_screen_of_its_own(client, shift, manager):
    sign_in(client, manager)
    page = client.get("/kiosk/Kitchen")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="kiosk-board"' in html
    assert "kiosk.css" in html and "app.css" not in html and "topbar" not in html
    assert "HX-Request" in page.headers["Vary"] and page.headers["Cache-Control"] == "no-store"
    assert cards_in(html) == [shift[1].id]
    assert "Table 1" in html and "Burger" in html and "Fries" in html
    assert 'id="kiosk-all-day"' in html and "<script>" not in html and "style=" not in html
    assert 'hx-trigger="every 1s"' in html and '"timeout": 3000' in html
    assert "X-CSRFToken" in html
    for key in ("Enter", "Space", "Recall"):
        assert key in html


def test_fragment_and_204_poll(client, shift, manager):
    sign_in(client, manager)
    fragment = client.get("/kiosk/Kitchen", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="kiosk-board"')
    version = re.search(r'"version": "(\d+)"', body).group(1)
    idle = client.get(f"/kiosk/Kitchen?version={version}", headers=HTMX)
    assert idle.status_code == 204 and idle.get_data() == b""
    assert "HX-Request" in idle.headers["Vary"]
    # Without HX-Request the same URL is the full page, version or not.
    assert "<html" in client.get(f"/kiosk/Kitchen?version={version}").get_data(as_text=True)
    order_status.set_order_status(user=manager, order_id=shift[1].id, status=S.PROCESSING)
    fresh = client.get(f"/kiosk/Kitchen?version={version}", headers=HTMX)
    assert fresh.status_code == 200 and "Processing" in fresh.get_data(as_text=True)


def test_a_ticket_made_through_the_api_shows_on_the_next_poll(client, shift, manager, waiter):
    sign_in(client, manager)
    version = re.search(r'"version": "(\d+)"', client.get("/kiosk/Kitchen", headers=HTMX)
                      .get_data(as_text=True)).group(1)
    made = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
        "name": "Table 9", "items": [{"productCode": "FRIES", "quantity": 2}]})
    assert made.status_code == 201
    poll = client.get(f"/kiosk/Kitchen?version={version}", headers=HTMX)
    assert poll.status_code == 200 and "Table 9" in poll.get_data(as_text=True)


def test_unknown_station_is_404(client, shift, manager):
    sign_in(client, manager)
    assert client.get("/kiosk/Nowhere").status_code == 404


def test_void_orders_show_as_cancellations_with_an_acknowledge_button(
        client, shift, catalog, waiter, manager):
    t1 = shift[0]
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t1.id, name="Table 1",
                               lines=lines(("BURGER", 2)))
    sign_in(client, manager)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    card = html[html.index(f'id="card-{void.id}"'):]
    card = card[:card.index("</article>")]
    assert "void" in card.split(">")[0] and "VOID" in card and "−1" in card
    assert f"/kiosk/Kitchen/orders/{void.id}/acknowledge" in card
    done = client.post(f"/kiosk/Kitchen/orders/{void.id}/acknowledge", headers=HTMX)
    assert done.status_code == 200 and void.id not in cards_in(done.get_data(as_text=True))


# --- taps -------------------------------------------------------------------------------------

def test_taps_answer_the_fresh_board_under_htmx(client, shift, manager):
    _, o1, _ = shift
    sign_in(client, manager)
    tap = client.post(f"/kiosk/Kitchen/orders/{o1.id}/items/1/advance", data={"seen": "New"},
                      headers=HTMX)
    assert tap.status_code == 200 and tap.get_data(as_text=True).lstrip().startswith(
        '<section id="kiosk-board"')
    assert statuses(o1.id) == [S.PROCESSING, S.NEW]
    client.post(f"/kiosk/Kitchen/orders/{o1.id}/advance", data={"seen": "New"}, headers=HTMX)
    assert statuses(o1.id) == [S.PROCESSING, S.PROCESSING]
    bumped = client.post(f"/kiosk/Kitchen/orders/{o1.id}/bump", headers=HTMX)
    assert bumped.status_code == 200 and cards_in(bumped.get_data(as_text=True)) == []
    recalled = client.post("/kiosk/Kitchen/recall", headers=HTMX)
    assert cards_in(recalled.get_data(as_text=True)) == [o1.id]
    assert statuses(o1.id) == [S.READY, S.READY]
    nothing = client.post("/kiosk/Kitchen/recall", headers=HTMX)
    assert nothing.status_code == 404 and nothing.headers["HX-Retarget"] == "#messages"
    assert "Nothing to recall" in nothing.get_data(as_text=True)


def test_without_javascript_a_tap_redirects_back_to_the_screen(client, shift, manager):
    sign_in(client, manager)
    response = client.post(f"/kiosk/Kitchen/orders/{shift[1].id}/bump")
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/Kitchen"
    assert statuses(shift[1].id) == [S.COMPLETED, S.COMPLETED]


def test_a_stale_tap_is_refused_with_a_message(client, shift, manager):
    _, o1, _ = shift
    order_status.set_item_status(user=manager, order_id=o1.id, item_id=1, status=S.READY)
    sign_in(client, manager)
    stale = client.post(f"/kiosk/Kitchen/orders/{o1.id}/items/1/advance", data={"seen": "New"},
                        headers=HTMX)
    assert stale.status_code == 409 and stale.headers["HX-Retarget"] == "#messages"
    assert "changed meanwhile" in stale.get_data(as_text=True)
    assert statuses(o1.id) == [S.READY, S.NEW]


def test_a_reader_sees_the_screen_but_cannot_tap(client, shift):
    reader = make_user("reader", ["orderRead"])
    sign_in(client, reader)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert cards_in(html) and 'class="bump" disabled' in html
    assert 'data-action="recall"' not in html
    assert client.post(f"/kiosk/Kitchen/orders/{shift[1].id}/bump").status_code == 403
    assert statuses(shift[1].id) == [S.NEW, S.NEW]


def test_people_without_order_rights_are_refused(client, shift, waiter):
    sign_in(client, waiter)
    assert client.get("/kiosk/Kitchen").status_code == 403
    assert client.get("/kiosk/expo").status_code == 403
    assert client.get("/kiosk").status_code == 403


def test_kiosk_posts_need_the_csrf_token(app, client, shift, manager):
    sign_in(client, manager)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/kiosk/Kitchen").get_data(as_text=True)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        url = f"/kiosk/Kitchen/orders/{shift[1].id}/bump"
        assert client.post(url, headers=HTMX).status_code == 400
        assert statuses(shift[1].id) == [S.NEW, S.NEW]
        assert client.post(url, headers={**HTMX, "X-CSRFToken": token}).status_code == 200
        assert statuses(shift[1].id) == [S.COMPLETED, S.COMPLETED]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- expo -----------------------------------------------------------------------------------

def test_expo_page_fragment_and_one_tap_completion(client, shift, manager):
    _, o1, o2 = shift
    sign_in(client, manager)
    page = client.get("/kiosk/expo")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="kiosk-expo"' in html
    assert cards_in(html) == [o1.id, o2.id] and "Waiting for Kitchen, Pass" in html
    refused = client.post(f"/kiosk/expo/orders/{o1.id}/complete", headers=HTMX)
    assert refused.status_code == 409
    order_status.set_order_status(user=manager, order_id=o1.id, status=S.READY)
    fragment = client.get("/kiosk/expo", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="kiosk-expo"') and "is-ready" in fragment
    done = client.post(f"/kiosk/expo/orders/{o1.id}/complete", headers=HTMX)
    assert done.status_code == 200 and cards_in(done.get_data(as_text=True)) == [o2.id]
    version = re.search(r'"version": "(\d+)"', done.get_data(as_text=True)).group(1)
    assert client.get(f"/kiosk/expo?version={version}", headers=HTMX).status_code == 204


def test_screen_picker_for_people(client, shift, manager):
    sign_in(client, manager)
    html = client.get("/kiosk").get_data(as_text=True)
    for url in ("/kiosk/Kitchen", "/kiosk/Bar", "/kiosk/Pass", "/kiosk/expo"):
        assert f'href="{url}"' in html


# --- kiosk links: a session scoped to one station -------------------------------------------

def test_a_kiosk_link_signs_in_its_station_and_nothing_else(client, shift, kitchen_link):
    _, o1, o2 = shift
    _, secret = kitchen_link
    opened = as_kiosk(client, secret)
    assert opened.headers["Location"] == "/kiosk/Kitchen"  # the secret leaves the address bar
    page = client.get("/kiosk/Kitchen")
    assert page.status_code == 200 and cards_in(page.get_data(as_text=True)) == [o1.id]
    assert "Dashboard" not in page.get_data(as_text=True)
    assert client.get("/kiosk").headers["Location"] == "/kiosk/Kitchen"
    assert client.post(f"/kiosk/Kitchen/orders/{o1.id}/bump", headers=HTMX).status_code == 200
    assert statuses(o1.id) == [S.COMPLETED, S.COMPLETED]
    assert client.post("/kiosk/Kitchen/recall", headers=HTMX).status_code == 200
    # Everything else: other stations, the expo, the dashboard, admin pages, the API.
    assert client.get("/kiosk/Bar").status_code == 403
    assert client.get("/kiosk/Bar", headers=HTMX).status_code == 403
    assert client.get("/kiosk/Pass?version=1", headers=HTMX).status_code == 403
    assert client.get("/kiosk/expo").status_code == 403
    assert client.post(f"/kiosk/Bar/orders/{o2.id}/bump", headers=HTMX).status_code == 403
    assert client.post(f"/kiosk/Pass/orders/{o1.id}/bump", headers=HTMX).status_code == 403
    assert client.post(f"/kiosk/expo/orders/{o1.id}/complete").status_code == 403
    assert statuses(o2.id, "Bar") == [S.NEW] and statuses(o1.id, "Pass") == [S.NEW]
    for url in ("/orders", f"/orders/{o1.id}", "/admin/kiosk-links", "/admin/users",
                "/account/api-keys"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
    assert client.post(f"/orders/{o2.id}/status", data={"status": "Ready"}).status_code == 302
    assert client.get("/api/orders").status_code == 401
    assert client.post(f"/api/orders/{o2.id}/status", json={"status": "Ready"}).status_code == 401
    assert statuses(o2.id, "Bar") == [S.NEW]


def test_revoking_a_link_stops_its_screen_on_the_next_request(client, shift, kitchen_link,
                                                              admin):
    link, secret = kitchen_link
    as_kiosk(client, secret)
    version = re.search(r'"version": "(\d+)"', client.get("/kiosk/Kitchen").get_data(as_text=True)
                      ).group(1)
    assert client.get(f"/kiosk/Kitchen?version={version}", headers=HTMX).status_code == 204
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    assert client.get(f"/kiosk/Kitchen?version={version}", headers=HTMX).status_code == 403
    assert client.get("/kiosk/Kitchen").status_code == 403
    assert client.post(f"/kiosk/Kitchen/orders/{shift[1].id}/bump").status_code == 403
    assert client.get(f"/kiosk/Kitchen?key={secret}").status_code == 403
    assert statuses(shift[1].id) == [S.NEW, S.NEW]


def test_a_bad_key_is_refused_and_a_key_for_another_station_goes_to_its_own(
        client, shift, kitchen_link):
    assert client.get("/kiosk/Kitchen?key=kio_wrong").status_code == 403
    assert client.get("/kiosk/Kitchen?key=").status_code == 302  # no key: sign in as usual
    response = client.get(f"/kiosk/Bar?key={kitchen_link[1]}")
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/Kitchen"


def test_a_kiosk_link_opened_while_signed_in_asks_before_signing_out(client, shift,
                                                                     kitchen_link, manager):
    sign_in(client, manager)
    assert client.get("/orders").status_code == 200
    asked = client.get(f"/kiosk/Kitchen?key={kitchen_link[1]}")
    assert asked.status_code == 303 and asked.headers["Location"] == "/open-kiosk-link"
    page = client.get("/open-kiosk-link")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Make this browser a kiosk screen?" in html
    assert 'name="csrf_token"' in html and 'value="screen"' in html and 'value="stay"' in html
    assert kitchen_link[1] not in html  # the secret is not repeated in the page
    assert page.headers["Cache-Control"] == "no-store"
    # Nothing happened yet: still the person, not a screen.
    assert client.get("/orders").status_code == 200
    assert client.get("/kiosk/Bar").status_code == 200

    # Staying signed in leaves the browser as it was.
    stay = client.post("/open-kiosk-link", data={"choice": "stay"})
    assert stay.status_code == 303 and stay.headers["Location"] == "/orders"
    assert client.get("/orders").status_code == 200
    assert client.post("/open-kiosk-link", data={"choice": "screen"}).status_code == 403

    # Asked again and confirmed: the person is signed out and the browser is the screen.
    client.get(f"/kiosk/Kitchen?key={kitchen_link[1]}")
    opened = client.post("/open-kiosk-link", data={"choice": "screen"})
    assert opened.status_code == 303 and opened.headers["Location"] == "/kiosk/Kitchen"
    assert client.get("/orders").status_code == 302
    assert client.get("/kiosk/Kitchen").status_code == 200
    assert client.get("/kiosk/Bar").status_code == 403


def test_the_kiosk_confirmation_needs_the_csrf_token(app, client, shift, kitchen_link, manager):
    sign_in(client, manager)
    client.get(f"/kiosk/Kitchen?key={kitchen_link[1]}")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get("/open-kiosk-link").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        assert client.post("/open-kiosk-link", data={"choice": "screen"}).status_code == 400
        assert client.get("/orders").status_code == 200  # still the person, not a screen
        confirmed = client.post("/open-kiosk-link", data={"choice": "screen",
                                                          "csrf_token": token})
        assert confirmed.status_code == 303
        assert client.get("/orders").status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_an_expo_link_opens_the_expo_only(client, shift, admin):
    _, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Pass tablet")
    response = client.get(f"/kiosk/expo?key={secret}")
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/expo"
    assert client.get("/kiosk/expo").status_code == 200
    assert client.get("/kiosk/Kitchen").status_code == 403


# --- the admin page of kiosk links ----------------------------------------------------------

def test_only_admins_see_the_kiosk_links_page(client, shift, manager):
    sign_in(client, manager)
    assert client.get("/admin/kiosk-links").status_code == 403
    assert client.post("/admin/kiosk-links", data={"name": "x", "target": "Kitchen"}
                       ).status_code == 403


def test_admin_creates_a_link_sees_its_secret_once_and_revokes_it(client, shift, admin):
    sign_in(client, admin)
    page = client.get("/admin/kiosk-links").get_data(as_text=True)
    assert 'id="kiosk-links"' in page and "Expo (every order" in page
    created = client.post("/admin/kiosk-links", data={"name": "Bar tablet", "target": "Bar"})
    # Post, redirect, get: reloading the page that shows the link makes no second link.
    assert created.status_code == 303 and created.headers["Location"] == "/admin/kiosk-links"
    fragment = client.get("/admin/kiosk-links", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="kiosk-links"') and "data-secret" not in fragment
    shown = client.get("/admin/kiosk-links")  # the secret waited for the page
    html = shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store" and 'data-copy="#new-kiosk-link"' in html
    url = re.search(r'data-secret>([^<]+)<', html).group(1)
    assert re.fullmatch(r"http://localhost/kiosk/Bar\?key=kio_[\w-]+", url)
    secret = url.split("key=")[1]
    later = client.get("/admin/kiosk-links").get_data(as_text=True)
    assert "Bar tablet" in later and secret not in later
    expo = client.post("/admin/kiosk-links", data={"name": "Expo", "target": ""},
                       follow_redirects=True)
    assert "/kiosk/expo?key=kio_" in expo.get_data(as_text=True)
    invalid = client.post("/admin/kiosk-links", data={"name": "", "target": "Bar"})
    assert invalid.status_code == 422 and "name of 1 to 60" in invalid.get_data(as_text=True)
    link = kiosk_links.list_kiosk_links(user=admin)[-1]
    row = client.post(f"/admin/kiosk-links/{link.id}/revoke", headers=HTMX)
    body = row.get_data(as_text=True)
    assert row.status_code == 200 and body.lstrip().startswith(f'<tr id="kiosk-link-{link.id}"')
    assert "revoked" in body
    plain = client.post(f"/admin/kiosk-links/{link.id}/revoke")
    assert plain.status_code == 303
    assert client.post("/admin/kiosk-links/999/revoke").status_code == 404
