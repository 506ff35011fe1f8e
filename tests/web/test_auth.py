"""Dashboard sign-in and sign-out: session versions (sign out everywhere, a new password, other
rights, deactivation), the remember-me cookie, the lifetimes of both, and where `next=` may
lead."""
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from app.extensions import db
from app.models import User
from app.services import users
from app.web.auth import SIGNED_IN_AT, safe_next
from tests.conftest import PASSWORD
from tests.web.helpers import HTMX, sign_in
from tests.web.test_admin import new_browser

REMEMBER = "remember_token"


@pytest.fixture
def client(app):
    return new_browser(app)


def signed_in_with_remember(app, user):
    """A browser signed in with "Keep me signed in", and copies of its two cookies."""
    browser = new_browser(app)
    response = browser.post("/sign-in", data={"user_name": user.user_name,
                                              "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    return browser, browser.get_cookie("session").value, browser.get_cookie(REMEMBER).value


def browser_with(app, *, session=None, remember=None):
    """A browser holding only these (copied) cookies, as an attacker who took them would."""
    browser = new_browser(app)
    if session:
        browser.set_cookie("session", session)
    if remember:
        browser.set_cookie(REMEMBER, remember)
    return browser


def is_signed_in(browser) -> bool:
    response = browser.get("/orders")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def refused_everywhere(app, session_cookie, remember_cookie) -> bool:
    return (not is_signed_in(browser_with(app, session=session_cookie))
            and not is_signed_in(browser_with(app, remember=remember_cookie)))


# --- sign out everywhere ---------------------------------------------------------------------

def test_sign_out_everywhere_ends_every_session_and_remember_cookie(app, manager):
    one, one_session, one_remember = signed_in_with_remember(app, manager)
    other, other_session, other_remember = signed_in_with_remember(app, manager)
    # Before: each copied cookie alone signs a browser in.
    assert is_signed_in(browser_with(app, session=other_session))
    assert is_signed_in(browser_with(app, remember=other_remember))

    response = one.post("/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "signed out on every browser" in one.get("/sign-in").get_data(as_text=True)
    assert not is_signed_in(one) and not is_signed_in(other)
    assert refused_everywhere(app, one_session, one_remember)
    assert refused_everywhere(app, other_session, other_remember)
    # Signing in again works, at the new version.
    assert is_signed_in(sign_in(new_browser(app), manager))


def test_the_dashboard_offers_sign_out_everywhere_as_a_form_with_the_csrf_token(client,
                                                                                manager):
    sign_in(client, manager)
    html = client.get("/orders").get_data(as_text=True)
    assert 'formaction="/sign-out-everywhere"' in html and "Sign out everywhere" in html
    assert client.get("/sign-out-everywhere").status_code == 405  # never by a link


def test_sign_out_everywhere_needs_the_csrf_token(app, client, manager):
    sign_in(client, manager)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/sign-out-everywhere").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert is_signed_in(client)


# --- plain sign-out --------------------------------------------------------------------------

def test_sign_out_ends_this_browsers_session_and_deletes_its_remember_cookie(app, manager):
    browser, _, _ = signed_in_with_remember(app, manager)
    other, _, _ = signed_in_with_remember(app, manager)
    response = browser.post("/sign-out")
    assert response.status_code == 303
    deleted = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(REMEMBER + "=")]
    assert deleted and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert browser.get_cookie(REMEMBER) is None
    assert not is_signed_in(browser)
    # This browser only: the person's other browser stays signed in.
    assert is_signed_in(other)


# --- what else ends the sessions -------------------------------------------------------------

def edit(admin_browser, user, **changes):
    data = {"name": user.name, "rights": user.rights, "is_active": "y", **changes}
    data = {k: v for k, v in data.items() if v is not None}
    response = admin_browser.post(f"/admin/users/{user.id}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    db.session.expire_all()


@pytest.mark.parametrize("change, ends", [
    ({"password": "a-new-password"}, True),
    ({"rights": ["orderRead"]}, True),
    ({"is_active": None}, True),  # unchecked: deactivated
    ({"name": "Night manager"}, False),
])
def test_a_new_password_other_rights_or_deactivation_end_the_sessions(app, admin, manager,
                                                                      change, ends):
    _, session_cookie, remember_cookie = signed_in_with_remember(app, manager)
    edit(sign_in(new_browser(app), admin), manager, **change)
    assert refused_everywhere(app, session_cookie, remember_cookie) is ends


def test_create_user_command_setting_a_new_password_ends_the_sessions(app, manager):
    _, session_cookie, remember_cookie = signed_in_with_remember(app, manager)
    result = app.test_cli_runner().invoke(args=["create-user", "manager",
                                                "--password", "another-password"])
    assert result.exit_code == 0, result.output
    assert refused_everywhere(app, session_cookie, remember_cookie)


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(app, admin):
    here, _, _ = signed_in_with_remember(app, admin)
    _, elsewhere_session, elsewhere_remember = signed_in_with_remember(app, admin)
    edit(here, admin, password="my-new-password")
    assert is_signed_in(here)
    assert is_signed_in(browser_with(app, remember=here.get_cookie(REMEMBER).value))
    assert refused_everywhere(app, elsewhere_session, elsewhere_remember)


def test_a_session_from_before_versions_is_refused(client, manager):
    # Sessions signed before this release name the user id alone.
    with client.session_transaction() as session:
        session["_user_id"] = str(manager.id)
        session["_fresh"] = True
    assert not is_signed_in(client)
    assert users.load_session_user(str(manager.id)) is None
    assert users.load_session_user(f"{manager.id}:{manager.session_version}").id == manager.id
    for bad in (None, "", ":", f"{manager.id}:", f":{manager.session_version}", "x:1", "1:x",
                f"{manager.id}:{manager.session_version + 1}"):
        assert users.load_session_user(bad) is None, bad


def test_the_session_version_is_stored(app, manager):
    before = manager.session_version
    users.end_all_sessions(user=manager)
    db.session.expire_all()
    assert db.session.get(User, manager.id).session_version == before + 1


# --- lifetimes -------------------------------------------------------------------------------

def cookie_expiry(response, name) -> datetime:
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))
    expires = next(part.split("=", 1)[1] for part in cookie.split("; ")
                   if part.startswith("Expires="))
    return parsedate_to_datetime(expires)


def test_the_remember_cookie_lasts_remember_days(app, manager):
    response = new_browser(app).post("/sign-in", data={
        "user_name": "manager", "password": PASSWORD, "remember": "y"})
    lasts = cookie_expiry(response, REMEMBER) - datetime.now(UTC)
    assert timedelta(days=13, hours=23) < lasts <= timedelta(days=14)
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=2)
    try:
        response = new_browser(app).post("/sign-in", data={
            "user_name": "manager", "password": PASSWORD, "remember": "y"})
    finally:
        app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=14)
    lasts = cookie_expiry(response, REMEMBER) - datetime.now(UTC)
    assert timedelta(days=1, hours=23) < lasts <= timedelta(days=2)


def age_sign_in(browser, seconds: float) -> None:
    with browser.session_transaction() as session:
        session[SIGNED_IN_AT] -= seconds


def test_a_sign_in_ends_after_the_session_lifetime(app, client, manager):
    sign_in(client, manager)
    age_sign_in(client, 11 * 3600)
    assert is_signed_in(client)
    age_sign_in(client, 2 * 3600)  # 13 h: past the default 12
    assert not is_signed_in(client)


def test_after_the_session_lifetime_the_remember_cookie_signs_in_afresh(app, manager):
    browser, _, _ = signed_in_with_remember(app, manager)
    age_sign_in(browser, 13 * 3600)
    assert is_signed_in(browser)
    with browser.session_transaction() as session:
        assert time.time() - session[SIGNED_IN_AT] < 60  # the clock started again


# --- where next= may lead --------------------------------------------------------------------

OFF_SITE = ["/\\evil.example/x", "\\\\evil.example", "//evil.example/x", "/\\/evil.example",
            "https://evil.example/", "http:/evil.example", "/\t/evil.example",
            "/\n/evil.example", " /orders", "javascript:alert(1)", "evil.example", "",
            "/" + "a" * 3000]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_the_site(app, client, manager, target):
    # Anything else leads to "/", the person's home screen.
    with app.test_request_context():
        assert safe_next(target) == "/"
    response = client.post("/sign-in", query_string={"next": target},
                           data={"user_name": "manager", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    # Signed in already, and under htmx (HX-Location), the same.
    again = client.get("/sign-in", query_string={"next": target}, headers=HTMX)
    assert again.status_code == 204 and again.headers["HX-Location"] == "/"


@pytest.mark.parametrize("target", ["/orders/abc", "/orders?status=New&page=2",
                                    "/kiosk/Grill%20left", "/admin/users"])
def test_next_keeps_a_path_of_this_site(app, client, manager, target):
    with app.test_request_context():
        assert safe_next(target) == target
    response = client.post("/sign-in", query_string={"next": target},
                           data={"user_name": "manager", "password": PASSWORD})
    assert response.headers["Location"] == target
