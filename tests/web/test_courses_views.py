"""Courses that fire on the dashboard and the kiosk screens: the order page's Courses section
and Fire button, the expo's Fire button, held and waiting lines on a station's screen, and the
product form's prep time."""
import re

import pytest

from app.extensions import db
from app.models.orders import Order
from app.services import courses, products
from tests.conftest import make_user
from tests.course_menu import order_courses, set_up_menu
from tests.web.helpers import HTMX, sign_in


@pytest.fixture
def device(app):
    return set_up_menu()


def waiting(order_id) -> list[int]:
    db.session.expire_all()
    return courses.waiting_courses(db.session.get(Order, order_id))


def fire_form(html: str, order_id: str, course: int) -> str | None:
    match = re.search(rf'<form[^>]*action="/orders/{order_id}/courses/{course}/fire".*?</form>',
                      html, re.DOTALL)
    return match.group(0) if match else None


def test_the_order_page_shows_each_course_and_fires_a_held_one(client, device, waiter,
                                                               manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "CAKE")
    sign_in(client, manager)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="order-courses"' in html and "Course 2 — held" in html
    form = fire_form(html, order.id, 2)
    assert form is not None and 'hx-post' in form and 'name="csrf_token"' in form
    assert f'name="_v" value="{order.version}"' in form
    assert fire_form(html, order.id, 1) is None  # the first course fired with the order

    response = client.post(f"/orders/{order.id}/courses/2/fire", data={"_v": order.version})
    assert response.status_code == 303
    assert waiting(order.id) == [3]
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Saved." in page and fire_form(page, order.id, 2) is None
    assert "Course 2 fired — 1 item" in page and fire_form(page, order.id, 3) is not None


def test_an_order_of_one_course_has_no_courses_section(client, device, waiter, manager):
    order = order_courses(waiter, device, "STEAK", "SALAD", "WINE")
    sign_in(client, manager)
    assert 'id="order-courses"' not in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_the_fire_button_under_htmx_swaps_the_order_and_says_why_when_refused(
        client, device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "CAKE")
    drawn_at = order.version
    sign_in(client, manager)
    fragment = client.post(f"/orders/{order.id}/courses/3/fire", headers=HTMX,
                           data={"_v": drawn_at})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="order-detail"')
    assert fire_form(body, order.id, 3) is None and fire_form(body, order.id, 2) is not None
    # The page was drawn before that firing: its version is stale, nothing changes.
    stale = client.post(f"/orders/{order.id}/courses/2/fire", headers=HTMX,
                        data={"_v": drawn_at})
    assert stale.status_code == 409 and "Someone else changed this order" in \
        stale.get_data(as_text=True)
    assert waiting(order.id) == [2]
    again = client.post(f"/orders/{order.id}/courses/3/fire", headers=HTMX)
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and 'data-near="courses"' in text
    assert "Course 3 of order 1 is fired already." in text


def test_a_held_item_refused_a_start_on_the_order_page_says_why(client, device, waiter,
                                                                manager):
    order = order_courses(waiter, device, "SOUP", "STEAK")
    sign_in(client, manager)
    response = client.post(f"/orders/{order.id}/items/2/status", headers=HTMX,
                           data={"status": "Processing", "_v": order.version})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-near="item-2"' in text
    assert "held at Kitchen until course 2 is fired" in text


def test_firing_needs_the_order_process_right(client, device, waiter):
    order = order_courses(waiter, device, "SOUP", "STEAK")
    sign_in(client, make_user(rights=["orderRead", "orderUpdate"]))
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="order-courses"' in html and fire_form(html, order.id, 2) is None
    assert client.post(f"/orders/{order.id}/courses/2/fire").status_code == 403
    assert waiting(order.id) == [2]


def test_the_station_screen_greys_held_lines_and_counts_down_quicker_ones(client, device,
                                                                          waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "SALAD")
    sign_in(client, manager)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert html.count("Course 2 – held") == 2
    assert len(re.findall(r'class="line status-new held"[^>]* disabled', html)) == 2
    courses.fire_course(user=manager, order_id=order.id, course=2)
    html = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert "– held" not in html
    # Salad takes 5 minutes against the Steak's 15: it starts in ten.
    assert re.search(r'data-start="[^"]+Z">start in (10:00|9:5\d)<', html)
    names = re.findall(r'<span class="name">(\w+)</span>', html)
    assert names == ["Steak", "Soup", "Salad"]


def test_the_expo_screen_fires_a_course(client, device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK")
    sign_in(client, manager)
    html = client.get("/kiosk/expo").get_data(as_text=True)
    action = f"/kiosk/expo/orders/{order.id}/courses/2/fire"
    assert f'action="{action}"' in html and "Fire course 2" in html
    board = client.post(action, headers=HTMX)
    body = board.get_data(as_text=True)
    assert board.status_code == 200 and body.lstrip().startswith('<section id="kiosk-expo"')
    assert "Fire course 2" not in body and waiting(order.id) == []
    # Without JavaScript the form posts and the screen comes back.
    assert client.post(action).status_code == 409


def test_the_product_form_keeps_a_prep_time(client, device, admin):
    sign_in(client, admin)
    response = client.post("/admin/products", data={
        "code": "PIE", "name": "Pie", "price": "6", "station_names": ["Kitchen"],
        "prep_seconds": "420"})
    assert response.status_code == 303
    assert products.get_product("PIE").prep_seconds == 420
    assert 'value="420"' in client.get("/admin/products/PIE").get_data(as_text=True)
    refused = client.post("/admin/products", data={"code": "TART2", "name": "Tart",
                                                   "price": "6", "prep_seconds": "-5"})
    assert refused.status_code == 422 and "A prep time is a whole number of seconds" in \
        refused.get_data(as_text=True)
