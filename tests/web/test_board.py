"""Ready boards over HTTP: the page, the fragment and the 204 poll; a board link opens its board
and nothing else (every other page and the API answer as to any visitor); revoking it ends the
board; no personal data on the page unless the board allows first names; the admin pages."""
import re

import pytest

from app.core import status as S
from app.extensions import db
from app.models import DEFAULT_BOARD
from app.models.orders import Order
from app.services import boards, kiosk_links, order_status
from app.services.boards import BoardFields
from tests.conftest import make_ticket
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def shift(catalog, waiter):
    _, (o1,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Anna Smith")
    _, (o2,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 7")
    return o1, o2


@pytest.fixture
def pickup(admin, catalog):
    return boards.create_board(user=admin, name="pickup", fields=BoardFields(
        title="Pick-up", station_names=["Kitchen"]))


def board_link(admin, board_name, name="TV"):
    return kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name=board_name,
                                         name=name)


def open_board(client, secret, path="/board/pickup"):
    opened = client.get(f"{path}?key={secret}")
    assert opened.status_code == 303 and opened.headers["Location"] == path
    return opened


def shown(html: str) -> dict[str, list[int]]:
    """The numbers in each column of a board's page or fragment."""
    found = {}
    for key in ("preparing", "ready"):
        part = re.search(rf'<section class="column {key}".*?</section>', html, re.DOTALL).group(0)
        found[key] = [int(n) for n in re.findall(r'data-number="(\d+)"', part)]
    return found


def statuses_of(order) -> list[str]:
    db.session.expire_all()
    return [c.status for c in db.session.get(Order, order.id).cells]


def version_of(html: str) -> str:
    return re.search(r'"version": "([\d.]+)"', html).group(1)


def test_a_board_link_opens_its_board_and_nothing_else(client, shift, pickup, admin):
    o1, _ = shift
    _, secret = board_link(admin, "pickup")
    open_board(client, secret)  # the secret leaves the address bar
    page = client.get("/board/pickup")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert shown(html) == {"preparing": [o1.number], "ready": []}  # Kitchen's orders only
    assert "Pick-up" in html and "Dashboard" not in html
    # Every other page answers as to a visitor who never signed in: other boards, the kiosk
    # screens, the dashboard, admin pages, and the API.
    for url in ("/board", "/board/other", "/kiosk", "/kiosk/Kitchen", "/kiosk/expo", "/orders",
                f"/orders/{o1.id}", "/admin/boards", "/admin/kiosk-links", "/account/api-keys"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
    assert client.get("/kiosk/Kitchen?version=1", headers=HTMX).status_code == 401
    assert client.post(f"/kiosk/Kitchen/orders/{o1.id}/bump", headers=HTMX).status_code == 401
    assert client.post(f"/orders/{o1.id}/status", data={"status": "Ready"}).status_code == 302
    assert client.get("/api/orders").status_code == 401
    assert client.get(f"/api/orders/{o1.id}").status_code == 401
    assert client.post(f"/api/orders/{o1.id}/status", json={"status": "Ready"}).status_code == 401
    assert client.get("/board/pickup").status_code == 200  # still its own board
    assert client.get("/board/pickup?version=0.0", headers=HTMX).status_code == 200
    assert statuses_of(o1) == [S.NEW]  # nothing was changed by any of it


def test_the_default_board_and_its_link(client, shift, admin):
    o1, o2 = shift
    _, secret = board_link(admin, DEFAULT_BOARD)
    open_board(client, secret, "/board")
    assert shown(client.get("/board").get_data(as_text=True)) == {
        "preparing": [o1.number, o2.number], "ready": []}
    assert client.get("/board/pickup").status_code == 302


def test_the_poll_answers_204_until_something_changes(client, shift, pickup, admin, manager):
    o1, _ = shift
    _, secret = board_link(admin, "pickup")
    open_board(client, secret)
    version = version_of(client.get("/board/pickup").get_data(as_text=True))
    idle = client.get(f"/board/pickup?version={version}", headers=HTMX)
    assert idle.status_code == 204 and idle.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in idle.headers["Vary"]
    order_status.set_order_status(user=manager, order_id=o1.id, status=S.READY)
    fresh = client.get(f"/board/pickup?version={version}", headers=HTMX)
    html = fresh.get_data(as_text=True)
    assert fresh.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="ready-board"')
    assert shown(html) == {"preparing": [], "ready": [o1.number]}
    assert 'data-ready-at="' in html and 'data-chime="on"' in html
    # A plain request (a reload) always draws the page.
    assert client.get(f"/board/pickup?version={version_of(html)}").status_code == 200


def test_revoking_the_link_ends_the_board(client, shift, pickup, admin):
    o1, _ = shift
    link, secret = board_link(admin, "pickup")
    open_board(client, secret)
    version = version_of(client.get("/board/pickup").get_data(as_text=True))
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    page = client.get("/board/pickup")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "revoked" in html
    assert f'data-number="{o1.number}"' not in html and "hx-trigger" not in html
    assert client.get(f"/board/pickup?version={version}", headers=HTMX).status_code == 403
    assert client.get(f"/board/pickup?key={secret}").status_code == 403
    assert client.get("/orders").status_code == 302


def test_no_personal_data_unless_the_board_allows_first_names(client, shift, admin, catalog,
                                                              waiter):
    o1, _ = shift
    _, secret = board_link(admin, DEFAULT_BOARD)
    open_board(client, secret, "/board")
    html = client.get("/board").get_data(as_text=True)
    for private in ("Anna", "Smith", "Table 7", "Wendy", "waiter", "Fries", "Cola", "POS-1",
                    "Kitchen", o1.id):
        assert private not in html, private
    boards.update_board(user=admin, name=DEFAULT_BOARD, fields=BoardFields(
        title="Orders", show_first_name=True, chime=False))
    html = client.get("/board").get_data(as_text=True)
    assert '<span class="name">Anna</span>' in html and "Smith" not in html
    assert "Table" not in html  # a table is a place, not a name
    assert 'data-chime="off"' in html


def test_who_may_look_at_a_board_without_a_link(client, shift, pickup, manager, waiter):
    anonymous = client.get("/board/pickup")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert client.get("/board", headers=HTMX).status_code == 401
    sign_in(client, waiter)  # sees only the orders they made: no board
    assert client.get("/board").status_code == 403
    client.post("/sign-out")
    sign_in(client, manager)
    page = client.get("/board/PICKUP")  # names in any case
    assert page.status_code == 200 and "Dashboard" in page.get_data(as_text=True)
    assert client.get("/board/nowhere").status_code == 404
    assert client.get("/board/pickup?key=kio_wrong").status_code == 403


def test_a_board_link_opened_while_signed_in_asks_first(client, shift, pickup, admin, manager):
    _, secret = board_link(admin, "pickup")
    sign_in(client, manager)
    asked = client.get(f"/board/pickup?key={secret}")
    assert asked.status_code == 303 and asked.headers["Location"] == "/open-kiosk-link"
    question = client.get("/open-kiosk-link").get_data(as_text=True)
    assert "ready board at /board/pickup" in question
    opened = client.post("/open-kiosk-link", data={"choice": "screen"})
    assert opened.status_code == 303 and opened.headers["Location"] == "/board/pickup"
    assert client.get("/orders").status_code == 302
    assert client.get("/board/pickup").status_code == 200


# --- admin pages -------------------------------------------------------------------------------

def test_admin_makes_a_board_edits_it_makes_a_link_and_revokes_it(client, shift, admin):
    sign_in(client, admin)
    page = client.get("/admin/boards").get_data(as_text=True)
    assert "Every order" in page and "/board" in page
    created = client.post("/admin/boards", data={
        "name": "bar", "title": "Drinks", "station_names": ["Bar"], "order_types": ["takeout"],
        "chime": "y", "ready_minutes": "7"})
    assert created.status_code == 303 and created.headers["Location"] == "/admin/boards/bar"
    board = boards.get_board("bar")
    assert (board.title, board.order_types, board.ready_minutes, board.chime,
            board.show_first_name) == ("Drinks", "takeout", 7, True, False)
    bad = client.post("/admin/boards", data={"name": "Bad Name", "title": "x",
                                             "ready_minutes": "7"})
    assert bad.status_code == 422 and "lower case letters" in bad.get_data(as_text=True)

    edit = client.get("/admin/boards/bar").get_data(as_text=True)
    version = re.search(r'name="_v"[^>]*value="(\d+)"', edit).group(1)
    saved = client.post("/admin/boards/bar", data={
        "title": "Bar", "station_names": ["Bar"], "ready_minutes": "3", "_v": version})
    assert saved.status_code == 303
    assert boards.get_board("bar").title == "Bar" and not boards.get_board("bar").chime
    stale = client.post("/admin/boards/bar", data={"title": "Late", "ready_minutes": "3",
                                                   "_v": version})
    assert stale.status_code == 409 and boards.get_board("bar").title == "Bar"

    made = client.post("/admin/boards/bar/links", data={"name": "Bar TV"})
    assert made.status_code == 303 and made.headers["Location"] == "/admin/boards/bar"
    html = client.get("/admin/boards/bar").get_data(as_text=True)
    url = re.search(r'data-secret>([^<]+)<', html).group(1)
    assert re.fullmatch(r"http://localhost/board/bar\?key=kio_[\w-]+", url)
    again = client.get("/admin/boards/bar").get_data(as_text=True)
    assert "Bar TV" in again and url.split("key=")[1] not in again  # shown once
    assert "Ready board" in client.get("/admin/kiosk-links").get_data(as_text=True)
    link = kiosk_links.list_kiosk_links(user=admin, board_id=board.id)[0]
    revoked = client.post(f"/admin/boards/bar/links/{link.id}/revoke")
    assert revoked.status_code == 303
    assert kiosk_links.get_kiosk_actor(link.id) is None

    # The default board: its settings, never a filter.
    default = client.post("/admin/boards/default", data={"title": "Orders", "show_first_name": "y",
                                                         "ready_minutes": "5"})
    assert default.status_code == 303 and default.headers["Location"] == "/admin/boards/default"
    assert boards.get_board(DEFAULT_BOARD).show_first_name
    assert client.post("/admin/boards/default/links", data={"name": "Door"}).status_code == 303
    assert "/board?key=kio_" in client.get("/admin/boards/default").get_data(as_text=True)


def test_only_admins_reach_the_board_pages(client, shift, pickup, manager):
    sign_in(client, manager)
    for method, url in (("GET", "/admin/boards"), ("POST", "/admin/boards"),
                        ("GET", "/admin/boards/pickup"), ("POST", "/admin/boards/pickup"),
                        ("GET", "/admin/boards/default"),
                        ("POST", "/admin/boards/pickup/links"),
                        ("POST", "/admin/boards/pickup/links/1/revoke")):
        response = client.open(url, method=method, data={"name": "x", "title": "Hacked"})
        assert response.status_code == 403, (method, url)
    assert boards.get_board("pickup").title == "Pick-up"


def test_every_board_form_needs_the_csrf_token(app, client, shift, pickup, admin):
    sign_in(client, admin)
    link, _ = board_link(admin, "pickup")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for url, data in (("/admin/boards", {"name": "new", "title": "New"}),
                          ("/admin/boards/pickup", {"title": "Hacked"}),
                          ("/admin/boards/pickup/links", {"name": "TV"}),
                          (f"/admin/boards/pickup/links/{link.id}/revoke", {})):
            assert client.post(url, data=data).status_code in (400, 422), url
        assert boards.get_board("pickup").title == "Pick-up"
        assert len(kiosk_links.list_kiosk_links(user=admin)) == 1
        assert kiosk_links.get_kiosk_actor(link.id) is not None
        html = client.get("/admin/boards/pickup").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        assert client.post("/admin/boards/pickup/links", data={
            "name": "TV 2", "csrf_token": token}).status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
