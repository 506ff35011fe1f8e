"""Admin pages (users, stations, products) and each user's own API keys, in the browser face."""
import re
from decimal import Decimal

import pytest
from flask import current_app, g, has_app_context
from sqlalchemy import select

from app.core import encryption, station_settings
from app.core.errors import Forbidden
from app.extensions import db
from app.models import ApiKey, Product, User
from app.services import products, stations, users
from tests.conftest import PASSWORD, Client, make_app, make_user
from tests.web.helpers import HTMX, sign_in


class Browser(Client):
    """Requests share the test's app context, so `g`, where Flask-Login keeps the signed-in
    user, outlives a request; forgetting it makes each request read its own session cookie,
    as it would in a real browser, so two browsers in one test stay two people."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def new_browser(app) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(app):
    return new_browser(app)


def text(response) -> str:
    return response.get_data(as_text=True)


def assert_page(response, status=200):
    assert response.status_code == status, text(response)[:800]
    assert "HX-Request" in response.headers.get("Vary", "")
    body = text(response)
    assert "<html" in body and "<nav" in body
    return body


def assert_fragment(response, region_id, status=200):
    assert response.status_code == status, text(response)[:800]
    assert "HX-Request" in response.headers.get("Vary", "")
    body = text(response)
    assert "<html" not in body and f'id="{region_id}"' in body
    return body


def stored_secret(station) -> str:
    """A station's secret, decrypted as only the sender does."""
    return encryption.decrypt(station.encrypted_secret,
                              current_app.config["SECRET_ENCRYPTION_KEYS"])


def user_named(user_name) -> User:
    return db.session.scalar(select(User).where(User.user_name == user_name))


# --- rights ----------------------------------------------------------------------------------

def _admin_routes():
    someone = make_user("someone")
    return [("GET", "/admin/users"), ("POST", "/admin/users"),
            ("GET", f"/admin/users/{someone.id}"), ("POST", f"/admin/users/{someone.id}"),
            ("GET", "/admin/stations"), ("POST", "/admin/stations"),
            ("GET", "/admin/stations/Kitchen"), ("POST", "/admin/stations/Kitchen"),
            ("POST", "/admin/stations/Kitchen/active"),
            ("GET", "/admin/products"), ("POST", "/admin/products"),
            ("GET", "/admin/products/BURGER"), ("POST", "/admin/products/BURGER"),
            ("GET", "/admin/products/BURGER/delete"), ("POST", "/admin/products/BURGER/delete")]


def _admin_route_names(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("admin.") and rule.rule.startswith("/admin/")}


def test_every_admin_route_is_covered_by_the_rights_test(app):
    assert _admin_route_names(app) == {"admin.users", "admin.edit_user", "admin.stations",
                                       "admin.edit_station", "admin.toggle_station",
                                       "admin.products", "admin.edit_product",
                                       "admin.delete_product"}


@pytest.mark.parametrize("who", ["customer", "manager"])
def test_non_admins_get_403_on_every_admin_route_and_nothing_changes(
        client, catalog, request, who):
    routes = _admin_routes()
    sign_in(client, request.getfixturevalue(who))
    data = {"is_active": "off", "name": "Hacked", "code": "BURGER", "price": "0",
            "user_name": "intruder", "password": "long-enough", "rights": ["admin"]}
    for method, url in routes:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "Not allowed" in text(response)
        fragment = client.open(url, method=method, data=data, headers=HTMX)
        assert fragment.status_code == 403 and "<html" not in text(fragment)
        assert fragment.headers["HX-Retarget"] == "#messages"
    assert user_named("intruder") is None
    assert stations.get_station("Kitchen").is_active
    assert products.get_product("BURGER").name == "Burger"
    assert user_named("someone").name == "someone"


def test_anonymous_is_sent_to_sign_in(client, catalog):
    routes = _admin_routes()
    for method, url in [*routes, ("GET", "/account/api-keys"), ("POST", "/account/api-keys"),
                        ("POST", "/account/api-keys/1/revoke")]:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in")


def test_the_nav_shows_admin_links_to_admins_only(client, admin, customer):
    sign_in(client, customer)
    body = assert_page(client.get("/account/api-keys"))
    assert "/admin/users" not in body and 'href="/account/api-keys"' in body
    client.post("/sign-out")
    sign_in(client, admin)
    body = assert_page(client.get("/admin/stations"))
    assert 'href="/admin/users"' in body and 'aria-current="page">Stations' in body


# --- users -----------------------------------------------------------------------------------

def test_users_page_and_fragment(client, admin, manager):
    sign_in(client, admin)
    body = assert_page(client.get("/admin/users"))
    assert "manager" in body and "orderProcess" in body and "Add a user" in body
    fragment = assert_fragment(client.get("/admin/users", headers=HTMX), "users-table")
    assert f'id="user-{manager.id}"' in fragment and "Add a user" not in fragment
    body = assert_page(client.get(f"/admin/users/{manager.id}"))
    checked = re.findall(r'<input checked id="rights-\d" name="rights" type="checkbox" '
                         r'value="(\w+)">', body)
    assert checked == ["orderRead", "orderProcess", "orderUpdate", "orderDelete"]


def test_admin_creates_a_user_who_can_then_sign_in(client, app, admin):
    sign_in(client, admin)
    response = client.post("/admin/users", data={
        "user_name": "kim", "name": "Kim Lee", "password": "kim-password",
        "rights": ["orderRead", "ticketCreate"]})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    kim = user_named("kim")
    assert kim.name == "Kim Lee" and kim.rights == ["orderRead", "ticketCreate"]
    assert "User kim was created." in text(client.get("/admin/users"))
    other = new_browser(app)
    assert other.post("/sign-in", data={"user_name": "kim", "password": "kim-password"}
                      ).status_code == 303


@pytest.mark.parametrize("data, message", [
    ({"user_name": "", "password": "long-enough"}, "A user name of 1 to 80 characters"),
    ({"user_name": "short", "password": "short"}, "A password has 8 to 200 characters"),
    ({"user_name": "manager", "password": "long-enough"}, "The user name &#39;manager&#39; is taken"),
    ({"user_name": "x", "password": "long-enough", "rights": ["root"]}, "Unknown right(s): root"),
])
def test_creating_a_bad_user_re_renders_the_form_with_422(client, admin, manager, data, message):
    sign_in(client, admin)
    body = assert_page(client.post("/admin/users", data=data), 422)
    assert message in body and "Nothing was saved" in body
    assert 'value="' + data["user_name"] + '"' in body  # the input is kept
    assert len(users.list_users()) == 2


def test_admin_edits_name_rights_password_and_active_flag(client, app, admin, manager):
    sign_in(client, admin)
    response = client.post(f"/admin/users/{manager.id}", data={
        "name": "Mona", "rights": ["orderRead"], "is_active": "y", "password": "new-password"})
    assert response.status_code == 303
    db.session.expire_all()
    assert user_named("manager").name == "Mona"
    assert user_named("manager").rights == ["orderRead"]
    browser = new_browser(app)
    assert browser.post("/sign-in", data={"user_name": "manager", "password": PASSWORD}
                        ).status_code == 401
    assert browser.post("/sign-in", data={"user_name": "manager", "password": "new-password"}
                        ).status_code == 303
    assert browser.get("/account/api-keys").status_code == 200

    # Deactivated: the open session ends and signing in is refused.
    client.post(f"/admin/users/{manager.id}", data={"name": "Mona", "rights": ["orderRead"]})
    db.session.expire_all()
    assert not user_named("manager").is_active
    assert browser.get("/account/api-keys").status_code == 302
    assert browser.post("/sign-in", data={"user_name": "manager", "password": "new-password"}
                        ).status_code == 401


def test_granting_admin_opens_the_admin_pages(client, app, admin, manager):
    browser = sign_in(new_browser(app), manager)
    assert browser.get("/admin/products").status_code == 403
    sign_in(client, admin)
    client.post(f"/admin/users/{manager.id}", data={
        "name": "manager", "rights": ["admin"], "is_active": "y"})
    # Other rights end the sessions signed in before; signed in again, the pages open.
    assert browser.get("/admin/products").status_code == 302
    assert sign_in(browser, manager).get("/admin/products").status_code == 200


@pytest.mark.parametrize("data, message", [
    ({"name": "Admin", "rights": ["orderRead"], "is_active": "y"},
     "You cannot remove your own admin right"),
    ({"name": "Admin", "rights": ["admin"]}, "You cannot deactivate yourself"),
])
def test_an_admin_cannot_lock_themselves_out(client, admin, data, message):
    sign_in(client, admin)
    body = assert_page(client.post(f"/admin/users/{admin.id}", data=data), 422)
    assert message in body
    db.session.expire_all()
    me = user_named("admin")
    assert me.rights == ["admin"] and me.is_active


def test_editing_a_user_validates_and_unknown_users_are_404(client, admin, manager):
    sign_in(client, admin)
    body = assert_page(client.post(f"/admin/users/{manager.id}", data={
        "name": "", "rights": ["orderRead"], "is_active": "y", "password": "short"}), 422)
    assert "A name has 1 to 120 characters" in body and "A password has 8 to 200" in body
    assert user_named("manager").name == "manager"
    assert client.get("/admin/users/999999").status_code == 404


def test_two_admins_editing_one_user_cannot_overwrite_each_other(client, app, admin, manager):
    # Both open the form at the same version; the first save wins, the second is told.
    sign_in(client, admin)
    page = client.get(f"/admin/users/{manager.id}").get_data(as_text=True)
    version = int(re.search(r'name="_v" type="hidden" value="(\d+)"', page).group(1))
    other = new_browser(app)
    sign_in(other, make_user("admin2", ["admin"]))
    assert other.post(f"/admin/users/{manager.id}", data={
        "name": "Night manager", "rights": ["orderRead"], "is_active": "y",
        "_v": version}).status_code == 303
    body = assert_page(client.post(f"/admin/users/{manager.id}", data={
        "name": "manager", "rights": ["orderRead", "orderUpdate", "admin"], "is_active": "y",
        "_v": version}), 409)
    assert "changed by someone else" in body and 'value="Night manager"' in body
    db.session.expire_all()
    saved = user_named("manager")
    assert saved.name == "Night manager" and saved.rights == ["orderRead"]
    assert saved.version == version + 1
    # From the form as it is now, the save goes through.
    fresh = int(re.search(r'name="_v" type="hidden" value="(\d+)"', body).group(1))
    assert client.post(f"/admin/users/{manager.id}", data={
        "name": "Day manager", "rights": ["orderRead"], "is_active": "y",
        "_v": fresh}).status_code == 303
    db.session.expire_all()
    assert user_named("manager").name == "Day manager"


def test_the_users_service_refuses_non_admins_itself(app, manager, customer):
    # The page checks too; this is the second lock, for any other caller of the service.
    with pytest.raises(Forbidden):
        users.create_user(user=manager, user_name="x", password="long-enough")
    with pytest.raises(Forbidden):
        users.update_user(user=manager, user_id=customer.id, name="x", rights=["admin"],
                          is_active=True)
    db.session.expire_all()
    assert user_named("x") is None and user_named("customer").rights == []


# --- stations --------------------------------------------------------------------------------

def test_stations_page_and_fragment(client, catalog, admin):
    stations.update_station("Bar", name="Bar", type="display", is_active=True,
                            address="10.0.0.5", settings={"columns": "3"})
    sign_in(client, admin)
    body = assert_page(client.get("/admin/stations"))
    assert "10.0.0.5" in body and "columns=3" in body and 'id="station-Kitchen"' in body
    assert_fragment(client.get("/admin/stations", headers=HTMX), "stations-table")
    body = assert_page(client.get("/admin/stations/Bar"))
    assert "columns=3" in body and "leave empty to keep" in body


def test_stations_empty_state(client, admin):
    sign_in(client, admin)
    assert "No stations yet — add the first one below." in text(client.get("/admin/stations"))


def test_toggling_a_station_with_htmx_swaps_its_row(client, catalog, admin):
    sign_in(client, admin)
    version = stations.get_station("Kitchen").version
    response = client.post("/admin/stations/Kitchen/active", headers=HTMX,
                           data={"is_active": "off", "_v": version})
    body = assert_fragment(response, "station-Kitchen")
    assert body.lstrip().startswith('<tr id="station-Kitchen"')
    assert 'aria-pressed="false"' in body and 'name="is_active" value="on"' in body
    db.session.expire_all()
    assert stations.get_station("Kitchen").is_active is False
    assert client.get("/api/orderendpoints/Kitchen").status_code == 401  # the API wants a token

    # The same form without JavaScript: a redirect back to the list, with a message.
    response = client.post("/admin/stations/Kitchen/active",
                           data={"is_active": "on", "_v": version + 1})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/stations"
    assert "Station Kitchen is now on." in text(client.get("/admin/stations"))
    db.session.expire_all()
    assert stations.get_station("Kitchen").is_active is True


def test_a_stale_toggle_answers_409_and_changes_nothing(client, catalog, admin):
    sign_in(client, admin)
    response = client.post("/admin/stations/Kitchen/active", headers=HTMX,
                           data={"is_active": "off", "_v": 99})
    assert response.status_code == 409 and response.headers["HX-Retarget"] == "#messages"
    assert "changed by someone else" in text(response)
    assert stations.get_station("Kitchen").is_active is True


def test_station_names_that_need_escaping_get_distinct_row_ids(client, admin):
    stations.create_station(name="Hot pass")
    stations.create_station(name="Hot_pass")
    sign_in(client, admin)
    body = text(client.get("/admin/stations"))
    assert 'id="station-Hot_20_pass"' in body and 'id="station-Hot_5f_pass"' in body


def test_admin_creates_and_edits_a_station(client, catalog, admin):
    sign_in(client, admin)
    response = client.post("/admin/stations", data={
        "name": "Grill", "type": "display", "is_active": "y", "address": "",
        "warnAfterMinutes": " 3 ", "lateAfterMinutes": "10", "compact": "y",
        "courseFiring": "held", "autoFire": "false", "secret": "s3cret"})
    assert response.status_code == 303
    grill = stations.get_station("Grill")
    # Only what differs from the defaults is kept.
    assert grill.settings == {"warnAfterMinutes": "3", "compact": "on", "courseFiring": "held"}
    assert stored_secret(grill) == "s3cret" and grill.plain_secret is None
    assert grill.is_active and grill.address is None

    # A key set through the API that the hub does not know is shown and kept.
    stations.update_station("Grill", name="Grill", type="display", is_active=True,
                            address=None, settings={**grill.settings, "columns": "3"})
    body = text(client.get("/admin/stations/Grill"))
    assert "columns=3" in body
    response = client.post("/admin/stations/Grill", data={
        "name": "Grill", "type": "display", "address": "back room", "warnAfterMinutes": "5",
        "courseFiring": "held", "secret": "", "_v": stations.get_station("Grill").version})
    assert response.status_code == 303
    db.session.expire_all()
    grill = stations.get_station("Grill")
    assert grill.settings == {"courseFiring": "held", "columns": "3"}
    assert grill.address == "back room"
    assert grill.is_active is False and stored_secret(grill) == "s3cret"  # empty: kept
    assert "s3cret" not in text(client.get("/admin/stations/Grill"))


def test_the_station_form_has_a_field_with_its_default_for_every_setting(client, admin):
    sign_in(client, admin)
    body = text(client.get("/admin/stations"))
    for setting in station_settings.SETTINGS:
        label = re.escape(setting.label)
        assert re.search(label, body), setting.key
        assert f"Default {setting.default}" in body or setting.kind == "types", setting.key
    # The empty form shows the defaults as the fields' values.
    assert re.search(r'<input[^>]*name="warnAfterMinutes"[^>]*value="5"', body)
    assert re.search(r'<input[^>]*name="width"[^>]*value="42"', body)
    assert re.search(r'<input[^>]*checked[^>]*name="cut"|<input[^>]*name="cut"[^>]*checked',
                     body)
    assert re.search(r'<option selected value="together">', body)
    assert 'name="settings"' not in body  # no box of key=value lines any more


def test_a_printer_saved_through_the_form_keeps_only_its_own_settings(client, admin):
    sign_in(client, admin)
    response = client.post("/admin/stations", data={
        "name": "Slips", "type": "printer", "is_active": "y", "address": "10.0.0.9",
        "beep": "y", "largeNumber": "y", "width": "48", "timezone": "Europe/Amsterdam",
        # Screen settings do not apply to a printer: not kept.
        "compact": "y", "warnAfterMinutes": "2"})
    assert response.status_code == 303
    assert stations.get_station("Slips").settings == {
        "beep": "on", "cut": "off", "width": "48", "timezone": "Europe/Amsterdam"}
    body = text(client.get("/admin/stations/Slips"))
    assert re.search(r'<input[^>]*name="width"[^>]*value="48"', body)


@pytest.mark.parametrize("data, message", [
    ({"name": "Printer", "type": "printer"}, "A printer station needs an address."),
    ({"name": "Hook", "type": "webhook", "address": "https://example.com/in"},
     "A webhook station needs a secret of at least 16 characters"),
    ({"name": "Bad", "type": "display", "warnAfterMinutes": "soon"},
     "warnAfterMinutes must be a whole number from 0 to 1440, not &#39;soon&#39;."),
    ({"name": "Bad", "type": "printer", "address": "10.0.0.9", "timezone": "Mars/Base"},
     "timezone must be an IANA time zone such as Europe/Amsterdam"),
    ({"name": "a/b", "type": "display"}, "without &#39;/&#39;"),
])
def test_refused_stations_re_render_with_422(client, admin, data, message):
    sign_in(client, admin)
    body = assert_page(client.post("/admin/stations", data=data), 422)
    assert message in body
    assert stations.list_stations() == []


def test_a_duplicate_station_name_answers_409_with_the_form(client, catalog, admin):
    sign_in(client, admin)
    body = assert_page(client.post("/admin/stations", data={"name": "Bar", "type": "display"}),
                       409)
    assert "A station named &#39;Bar&#39; exists already." in body


def test_a_stale_station_form_answers_409_with_the_current_state(client, catalog, admin):
    sign_in(client, admin)
    old = stations.get_station("Bar").version
    stations.update_station("Bar", name="Bar", type="display", is_active=True,
                            address="moved", settings={})
    body = assert_page(client.post("/admin/stations/Bar", data={
        "name": "Bar", "type": "display", "address": "mine", "_v": old}), 409)
    assert "changed by someone else" in body and 'value="moved"' in body
    db.session.expire_all()
    assert stations.get_station("Bar").address == "moved"


# --- products --------------------------------------------------------------------------------

def test_products_page_fragment_and_empty_state(client, admin, app):
    sign_in(client, admin)
    assert "No products yet — add the first one below." in text(client.get("/admin/products"))
    stations.create_station(name="Kitchen")
    products.create_product(code="SOUP", name="Soup", price=Decimal("5.5"),
                            station_names=["Kitchen"], course=1)
    body = assert_page(client.get("/admin/products"))
    assert "SOUP" in body and "5.50" in body and "Kitchen" in body
    fragment = assert_fragment(client.get("/admin/products", headers=HTMX), "products-table")
    assert 'id="product-SOUP"' in fragment


def test_admin_creates_edits_and_deletes_a_product(client, catalog, admin):
    sign_in(client, admin)
    response = client.post("/admin/products", data={
        "code": "KEBAB", "name": "Kebab", "price": "9.50", "station_names": ["Kitchen", "Pass"],
        "course": "2"})
    assert response.status_code == 303
    kebab = products.get_product("KEBAB")
    assert kebab.price == Decimal("9.5") and [s.name for s in kebab.stations] == \
        ["Kitchen", "Pass"] and kebab.course == 2

    body = assert_page(client.get("/admin/products/KEBAB"))
    assert 'value="9.50"' in body and 'name="_v"' in body
    response = client.post("/admin/products/KEBAB", data={
        "code": "KEBAB", "name": "Doner", "price": "10", "station_names": ["Bar"], "course": "",
        "_v": kebab.version})
    assert response.status_code == 303
    db.session.expire_all()
    kebab = products.get_product("KEBAB")
    assert kebab.name == "Doner" and [s.name for s in kebab.stations] == ["Bar"]
    assert kebab.course is None

    body = assert_page(client.get("/admin/products/KEBAB/delete"))
    assert "Delete product KEBAB?" in body
    response = client.post("/admin/products/KEBAB/delete", data={"_v": kebab.version})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/products"
    assert db.session.scalar(select(Product).where(Product.code == "KEBAB")) is None
    assert client.get("/admin/products/KEBAB").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"code": "", "name": "X", "price": "1"}, "A code of 1 to 40 characters"),
    ({"code": "X", "name": "X", "price": "-1"}, "A price of zero or more"),
    ({"code": "X", "name": "X", "price": "abc"}, "Price: Not a valid decimal value"),
    ({"code": "X", "name": "X", "price": "1", "station_names": ["Nowhere"]},
     "Unknown station(s): Nowhere."),
    ({"code": "X", "name": "X", "price": "1", "course": "100"}, "A course is a number from 0 to 99"),
])
def test_refused_products_re_render_with_422(client, catalog, admin, data, message):
    sign_in(client, admin)
    body = assert_page(client.post("/admin/products", data=data), 422)
    assert message in body
    assert len(products.list_products()) == 4


def test_stale_product_edit_and_delete_answer_409(client, catalog, admin):
    sign_in(client, admin)
    old = products.get_product("COLA").version
    products.update_product("COLA", code="COLA", name="Cola Zero", price=Decimal("3.2"),
                            station_names=["Bar"])
    body = assert_page(client.post("/admin/products/COLA", data={
        "code": "COLA", "name": "Mine", "price": "3", "_v": old}), 409)
    assert "changed by someone else" in body and 'value="Cola Zero"' in body
    response = client.post("/admin/products/COLA/delete", data={"_v": old})
    assert response.status_code == 409 and "was not deleted" in text(response)
    db.session.expire_all()
    assert products.get_product("COLA").name == "Cola Zero"


# --- API keys ----------------------------------------------------------------------------------

def test_api_keys_page_fragment_and_empty_state(client, customer):
    sign_in(client, customer)
    body = assert_page(client.get("/account/api-keys"))
    assert "No API keys yet — create one below." in body
    assert_fragment(client.get("/account/api-keys", headers=HTMX), "api-keys-table")


def test_an_api_key_is_shown_once_works_and_is_revoked(client, manager):
    sign_in(client, manager)
    response = client.post("/account/api-keys", data={"name": "Kitchen bridge"})
    # Post, redirect, get: reloading the page that shows the secret posts nothing again.
    assert response.status_code == 303 and response.headers["Location"] == "/account/api-keys"
    assert 'class="secret"' not in assert_fragment(client.get("/account/api-keys", headers=HTMX),
                                                   "api-keys-table")
    shown = client.get("/account/api-keys")  # the secret waited for the page
    body = assert_page(shown)
    assert shown.headers["Cache-Control"] == "no-store"
    secret = re.search(r'class="secret">([^<]+)<', body).group(1)
    assert secret.startswith(users.API_KEY_PREFIX) and "shown only this once" in body
    assert 'data-copy="#new-api-key"' in body

    listed = assert_page(client.get("/account/api-keys"))
    assert secret not in listed and "Kitchen bridge" in listed and secret[:12] in listed
    assert [k.name for k in users.list_api_keys(user=manager)] == ["Kitchen bridge"]
    assert "Active" in listed and "In use" not in listed

    bearer = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/auth", headers=bearer)
    assert me.status_code == 200 and me.json["userName"] == "manager"

    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "Kitchen bridge"))
    response = client.post(f"/account/api-keys/{key.id}/revoke", headers=HTMX)
    body = assert_fragment(response, f"api-key-{key.id}")
    assert "Revoked" in body and "hx-confirm" not in body
    assert client.get("/api/auth", headers=bearer).status_code == 401


def test_revoking_without_javascript_and_the_confirmation_attribute(client, customer):
    _, secret = users.create_api_key(user=customer, name="script")
    sign_in(client, customer)
    body = text(client.get("/account/api-keys"))
    assert "hx-confirm=" in body and 'method="post"' in body
    key = users.list_api_keys(user=customer)[0]
    response = client.post(f"/account/api-keys/{key.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/account/api-keys"
    assert "The API key script was revoked" in text(client.get("/account/api-keys"))
    assert client.get("/api/auth", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


def test_another_users_key_is_404_and_not_listed(client, manager, customer):
    key, secret = users.create_api_key(user=manager, name="managers key")
    sign_in(client, customer)
    assert "managers key" not in text(client.get("/account/api-keys"))
    assert client.post(f"/account/api-keys/{key.id}/revoke").status_code == 404
    fragment = client.post(f"/account/api-keys/{key.id}/revoke", headers=HTMX)
    assert fragment.status_code == 404 and fragment.headers["HX-Retarget"] == "#messages"
    assert client.get("/api/auth", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200


def test_a_key_without_a_name_re_renders_with_422(client, customer):
    sign_in(client, customer)
    body = assert_page(client.post("/account/api-keys", data={"name": "  "}), 422)
    assert "A name of 1 to 80 characters is required." in body and 'class="secret"' not in body
    assert users.list_api_keys(user=customer) == []


# --- CSRF ------------------------------------------------------------------------------------

def test_forms_without_a_csrf_token_are_refused(app, admin, catalog):
    guarded = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    browser = guarded.test_client()
    page = browser.get("/sign-in")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text(page)).group(1)
    assert browser.post("/sign-in", data={"user_name": "admin", "password": PASSWORD,
                                          "csrf_token": token}).status_code == 303
    for url, data in [("/admin/users", {"user_name": "sneaky", "password": "long-enough"}),
                      ("/admin/stations/Kitchen/active", {"is_active": "off"}),
                      ("/admin/products/COLA/delete", {}),
                      ("/account/api-keys", {"name": "sneaky"})]:
        response = browser.post(url, data=data)
        assert response.status_code == 400, url
        assert "did not come from this site" in text(response)
    # With the token the same form goes through.
    page = text(browser.get("/admin/users"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert browser.post("/admin/users", data={"user_name": "invited", "password":
                                              "long-enough", "csrf_token": token}
                        ).status_code == 303
    db.session.expire_all()
    assert user_named("sneaky") is None and user_named("invited") is not None
    assert stations.get_station("Kitchen").is_active
    assert db.session.scalar(select(Product).where(Product.code == "COLA")) is not None
    assert db.session.scalar(select(ApiKey)) is None
