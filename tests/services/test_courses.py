"""Courses that fire (app/services/courses.py): what fires with the order, the refusal of a held
start, firing by hand and by itself, start times by prep time, the history, and two firings at
once."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core import status as S
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models import User
from app.models.orders import Order, OrderEvent
from app.services import courses, history, kiosk, stations
from app.services.integrity import check_integrity
from app.services.order_status import set_cell_status, set_item_status, set_order_status
from app.services.tickets import LineInput, update_ticket
from tests.conftest import make_user
from tests.course_menu import item, order_courses, set_up_menu

N, P, R, C, X = S.NEW, S.PROCESSING, S.READY, S.COMPLETED, S.CANCELLED


@pytest.fixture
def device(app):
    return set_up_menu()


@pytest.fixture(autouse=True)
def consistent_afterwards(app):
    yield
    db.session.remove()
    assert check_integrity() == []


def fresh(order_id) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def fired_lines(order_id):
    db.session.expire_all()
    return db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.action == "fired")
        .order_by(OrderEvent.id)).all()


def test_the_first_course_and_items_without_a_course_fire_with_the_order(device, waiter):
    order = order_courses(waiter, device, "SOUP", "STEAK", "SALAD", "CAKE", "WINE", "TART")
    order = fresh(order.id)
    fired = {i.product_code: i.fired_at for i in order.items}
    assert fired["SOUP"] == fired["WINE"] == order.created_at
    # Tart is a third course, but the Bar makes everything at once: nothing holds it.
    assert fired["TART"] == order.created_at
    assert fired["STEAK"] is None and fired["SALAD"] is None and fired["CAKE"] is None
    assert courses.waiting_courses(order) == [2, 3]
    (line,) = fired_lines(order.id)
    assert (line.level, line.target, line.user_name) == ("course", "course 1", "waiter")
    assert "held: course 2, course 3" in line.detail


def test_the_lowest_course_of_the_order_is_its_first(device, waiter):
    """An order of second and third courses only (the soup came earlier): the second fires."""
    order = fresh(order_courses(waiter, device, "STEAK", "CAKE").id)
    assert item(order, "STEAK").fired_at is not None
    assert item(order, "CAKE").fired_at is None


def test_a_station_making_courses_together_holds_nothing(app, waiter):
    device = set_up_menu(held=False)
    order = fresh(order_courses(waiter, device, "SOUP", "STEAK", "CAKE").id)
    assert all(i.fired_at == order.created_at for i in order.items)
    assert fired_lines(order.id) == []
    assert fresh(set_item_status(user=make_user(rights=["orderUpdate"]), order_id=order.id,
                                 item_id=3, status=P).id).status == N


def test_a_held_item_cannot_be_started_and_nothing_changes(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "WINE")
    before = fresh(order.id)
    version, lines_before = before.version, history.change_counter()
    for change in (
            lambda: set_item_status(user=manager, order_id=order.id, item_id=2, status=P),
            lambda: set_item_status(user=manager, order_id=order.id, item_id=2, status=C),
            lambda: set_cell_status(user=manager, order_id=order.id, item_id=2,
                                    station_name="Kitchen", status=R),
            lambda: set_order_status(user=manager, order_id=order.id, status=P)):
        with pytest.raises(Conflict) as refused:
            change()
        assert "held at Kitchen until course 2 is fired" in refused.value.message
    after = fresh(order.id)
    assert after.version == version and history.change_counter() == lines_before
    assert {c.status for c in after.cells} == {N}
    # Cancelling a held item is allowed: it starts nothing.
    set_item_status(user=manager, order_id=order.id, item_id=2, status=X)
    assert {c.item.item_no: c.status for c in fresh(order.id).cells} == {1: N, 2: X, 3: N}


def test_firing_a_course_frees_its_items_and_is_recorded(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "SALAD", "CAKE")
    version, counter = fresh(order.id).version, history.change_counter()
    fired = courses.fire_course(user=manager, order_id=order.id, course=2, version=version)
    assert fired.version == version + 1
    assert history.change_counter() > counter
    order = fresh(order.id)
    steak, salad = item(order, "STEAK"), item(order, "SALAD")
    assert steak.fired_at is not None and steak.fired_at == salad.fired_at
    assert item(order, "CAKE").fired_at is None
    assert courses.waiting_courses(order) == [3]
    line = fired_lines(order.id)[-1]
    assert (line.target, line.user_name, line.detail) == ("course 2", "manager", "2 items")
    set_item_status(user=manager, order_id=order.id, item_id=2, status=P)
    assert item(fresh(order.id), "STEAK") is not None


def test_start_times_make_a_course_finish_together(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "WINE", "STEAK", "SALAD")
    created = fresh(order.id)
    # Soup and Wine fire with the order, each the longest of its own course.
    assert item(created, "SOUP").start_at == created.created_at
    assert item(created, "WINE").start_at == created.created_at
    courses.fire_course(user=manager, order_id=order.id, course=2)
    order = fresh(order.id)
    steak, salad = item(order, "STEAK"), item(order, "SALAD")
    assert steak.start_at == steak.fired_at  # the longest: 15 minutes, at once
    assert salad.start_at == salad.fired_at + timedelta(seconds=900 - 300)


def test_firing_is_refused_when_fired_already_unknown_or_not_allowed(device, waiter, manager,
                                                                     customer):
    order = order_courses(waiter, device, "SOUP", "STEAK", "TART")
    with pytest.raises(Conflict, match="fired already"):
        courses.fire_course(user=manager, order_id=order.id, course=1)
    with pytest.raises(Conflict, match="fired already"):
        courses.fire_course(user=manager, order_id=order.id, course=3)  # the Bar's: at once
    with pytest.raises(NotFound):
        courses.fire_course(user=manager, order_id=order.id, course=4)
    with pytest.raises(VersionMismatch):
        courses.fire_course(user=manager, order_id=order.id, course=2, version=1)
    with pytest.raises(Forbidden):
        courses.fire_course(user=make_user(rights=["orderUpdate"]), order_id=order.id, course=2)
    with pytest.raises(Forbidden):
        courses.fire_course(user=customer, order_id=order.id, course=2)
    # Someone with orderProcess but not seeing the order (only their own) finds no order.
    courses.fire_course(user=manager, order_id=order.id, course=2)
    with pytest.raises(Conflict):
        courses.fire_course(user=manager, order_id=order.id, course=2)
    assert len(fired_lines(order.id)) == 2  # at creation, and once by hand


def test_a_course_fires_by_itself_when_the_previous_one_is_ready(app, waiter, manager):
    device = set_up_menu(auto_fire=True)
    order = order_courses(waiter, device, "SOUP", "WINE", "STEAK", "SALAD", "CAKE")
    set_item_status(user=manager, order_id=order.id, item_id=1, status=P)
    assert courses.waiting_courses(fresh(order.id)) == [2, 3]
    version = fresh(order.id).version
    set_item_status(user=manager, order_id=order.id, item_id=1, status=R)
    order = fresh(order.id)
    assert order.version == version + 1  # one change: the status, and the firing with it
    assert courses.waiting_courses(order) == [3]
    line = fired_lines(order.id)[-1]
    assert (line.target, line.user_name, line.detail) == ("course 2", "auto",
                                                          "course 1 is ready")
    # The third waits for the whole second course.
    set_item_status(user=manager, order_id=order.id, item_id=3, status=R)
    assert courses.waiting_courses(fresh(order.id)) == [3]
    set_item_status(user=manager, order_id=order.id, item_id=4, status=C)
    assert courses.waiting_courses(fresh(order.id)) == []
    assert fired_lines(order.id)[-1].target == "course 3"


def test_without_auto_fire_a_ready_course_fires_nothing(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK")
    set_item_status(user=manager, order_id=order.id, item_id=1, status=R)
    assert courses.waiting_courses(fresh(order.id)) == [2]


def test_a_void_order_of_a_held_course_is_never_held(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK")
    _, (void,) = update_ticket(user=waiter, device=device, ticket_id=order.ticket_id,
                               name="Table 5", lines=[LineInput("SOUP", Decimal(1))])
    void = fresh(void.id)
    assert void.is_void and all(i.fired_at is not None for i in void.items)


def test_station_settings_for_courses_are_checked(app):
    with pytest.raises(Invalid) as refused:
        stations.create_station(name="Grill", settings={"courseFiring": "sometimes",
                                                        "autoFire": "yes"})
    assert [e.member_name for e in refused.value.errors] == ["settings", "settings"]
    stations.create_station(name="Grill", settings={"courseFiring": "held",
                                                    "autoFire": "false"})


# --- the station screen -------------------------------------------------------------------

def test_the_station_board_shows_held_lines_and_the_card_works_on_the_others(device, waiter,
                                                                            manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "SALAD")
    (card,) = kiosk.get_station_board(viewer=manager, station_name="Kitchen").cards
    assert [(line.item.product_code, line.held) for line in card.lines] == [
        ("SOUP", False), ("STEAK", True), ("SALAD", True)]
    assert card.next_status == P
    with pytest.raises(Conflict, match="held"):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=order.id, item_id=2)
    kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    assert {c.item.item_no: c.status for c in fresh(order.id).cells} == {1: P, 2: N, 3: N}
    # Bump completes what was fired; the held items keep the card on the screen.
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    assert {c.item.item_no: c.status for c in fresh(order.id).cells} == {1: C, 2: N, 3: N}
    (card,) = kiosk.get_station_board(viewer=manager, station_name="Kitchen").cards
    assert card.next_status is None and card.status == C
    with pytest.raises(Conflict, match="Completed"):
        kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    with pytest.raises(Conflict, match="nothing to bump"):
        kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    courses.fire_course(user=manager, order_id=order.id, course=2)
    (card,) = kiosk.get_station_board(viewer=manager, station_name="Kitchen").cards
    # Steak (15 minutes) is due at once, Salad (5) waits ten minutes.
    assert [(line.item.product_code, line.held, line.waiting) for line in card.lines] == [
        ("STEAK", False, False), ("SOUP", False, False), ("SALAD", False, True)]
    assert card.status == N and card.next_status == P


def test_the_expo_board_names_the_courses_to_fire(device, waiter, manager):
    order = order_courses(waiter, device, "SOUP", "STEAK", "CAKE")
    (card,) = kiosk.get_expo_board(viewer=manager).cards
    assert card.waiting_courses == [2, 3]
    kiosk.fire_course(viewer=manager, order_id=order.id, course=2)
    (card,) = kiosk.get_expo_board(viewer=manager).cards
    assert card.waiting_courses == [3]


def test_an_expo_kiosk_link_may_fire_and_a_station_link_may_not(device, waiter, admin):
    from app.services import kiosk_links

    order = order_courses(waiter, device, "SOUP", "STEAK")
    link, _ = kiosk_links.create_kiosk_link(user=admin, station_name=None, name="Pass")
    expo = kiosk_links.get_kiosk_actor(link.id)
    link, _ = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen", name="Line")
    station = kiosk_links.get_kiosk_actor(link.id)
    with pytest.raises(Forbidden):
        kiosk.fire_course(viewer=station, order_id=order.id, course=2)
    kiosk.fire_course(viewer=expo, order_id=order.id, course=2)
    assert fired_lines(order.id)[-1].user_name == "kiosk Pass"


# --- two at once ----------------------------------------------------------------------------

@pytest.mark.slow
def test_two_firings_at_once_fire_once(app, device, waiter, manager):
    order_id = order_courses(waiter, device, "SOUP", "STEAK", "SALAD").id
    version, manager_id = fresh(order_id).version, manager.id
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def fire():
        with app.app_context():
            user = db.session.get(User, manager_id)
            barrier.wait()
            try:
                courses.fire_course(user=user, order_id=order_id, course=2)
                outcomes.append("fired")
            except Conflict:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["fired", "refused"]
    assert len(fired_lines(order_id)) == 2  # at creation, then once
    assert fresh(order_id).version == version + 1
