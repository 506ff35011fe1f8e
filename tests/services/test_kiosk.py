"""Station kiosks: the card query, taps (item, card, bump, recall, void acknowledgement), the
all-day counts, the expo screen, and kiosk links scoped to one screen."""
import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from app.core import status as S
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models import Station, utcnow
from app.models.kiosk import KioskLink
from app.models.orders import Order, OrderEvent
from app.services import history, kiosk, kiosk_links, orders, processing, stations
from app.services.order_status import (
    set_cell_status,
    set_entry_status,
    set_item_status,
    set_order_status,
)
from app.services.tickets import update_ticket
from tests.conftest import lines, make_ticket, make_user

N, P, R, C, X = S.NEW, S.PROCESSING, S.READY, S.COMPLETED, S.CANCELLED


def board(viewer, station="Kitchen"):
    return kiosk.get_station_board(viewer=viewer, station_name=station)


def numbers(found) -> list[int]:
    return [card.order.number for card in found.cards]


def cell_statuses(order_id, station="Kitchen") -> dict[int, str]:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    entry = next(e for e in order.entries if e.station.name == station)
    return {c.item.item_no: c.status for c in order.cells if c.entry_id == entry.id}


def events(order_id, action="status"):
    db.session.expire_all()
    return db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.action == action)
        .order_by(OrderEvent.id)).all()


def make_actor(admin, target="Kitchen", name="Kitchen wall"):
    """A kiosk link and its actor; target "expo" is the expo screen, "expo-station" the
    station that happens to be named "expo"."""
    station_name = {"expo": None, "expo-station": "expo"}.get(target, target)
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name=station_name, name=name)
    return kiosk_links.get_kiosk_actor(link.id), link, secret


@pytest.fixture
def shift(catalog, waiter):
    """Order 1: 2 burgers + fries (Kitchen, Pass); 2: cola (Bar only); 3: fries with a note."""
    t1, (o1,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1), name="Table 1")
    _, (o2,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    _, (o3,) = make_ticket(waiter, catalog, ("FRIES", 3, "extra salt"), name="Table 3")
    return t1, o1, o2, o3


# --- the card query ---------------------------------------------------------------------------

def test_cards_are_dispatched_orders_with_open_cells_at_the_station_oldest_first(shift, manager):
    _, o1, o2, o3 = shift
    found = board(manager)
    assert numbers(found) == [o1.number, o3.number]
    first = found.cards[0]
    assert first.order.customer_label == "Table 1" and first.status == N
    assert [(ln.item.name, ln.item.quantity, ln.status, ln.next_status)
            for ln in first.lines] == [
        ("Burger", Decimal(2), N, P), ("Fries", Decimal(1), N, P)]
    assert found.cards[1].lines[0].item.note == "extra salt"
    assert first.since is not None
    assert numbers(board(manager, "Bar")) == [o2.number]
    # Pass gets the burger only (its product routes there too).
    assert [ln.item.name for ln in board(manager, "Pass").cards[0].lines] == ["Burger"]


def test_oldest_dispatch_comes_first(shift, manager):
    _, o1, _, o3 = shift
    db.session.execute(text("UPDATE order_entries SET processed_at = :at WHERE order_id = :id"),
                       {"at": utcnow() - timedelta(minutes=30), "id": o3.id})
    db.session.commit()
    assert numbers(board(manager)) == [o3.number, o1.number]


def test_undispatched_orders_wait_off_screen_until_processed(app, catalog, waiter, manager):
    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
    assert numbers(board(manager)) == []
    processing.process_orders(user=manager, order_ids=[order.id])
    assert numbers(board(manager)) == [order.number]


def test_completed_cancelled_and_deleted_leave_the_screen(shift, manager):
    _, o1, _, o3 = shift
    set_entry_status(user=manager, order_id=o1.id, station_name="Kitchen", status=C)
    assert numbers(board(manager)) == [o3.number]
    assert numbers(board(manager, "Pass")) == [o1.number]  # only Kitchen's part was done
    set_order_status(user=manager, order_id=o3.id, status=X)
    assert numbers(board(manager)) == []
    orders.delete_order(user=manager, order_id=o1.id)
    assert numbers(board(manager, "Pass")) == []


def test_a_card_stays_while_any_item_is_open_and_shows_the_done_ones(shift, manager):
    _, o1, _, _ = shift
    set_item_status(user=manager, order_id=o1.id, item_id=1, status=C)
    card = board(manager).cards[0]
    assert card.order.id == o1.id
    assert [(ln.status, ln.next_status) for ln in card.lines] == [(C, None), (N, P)]


def test_station_thresholds_come_from_its_settings(shift, manager):
    assert (board(manager).warn_minutes, board(manager).late_minutes) == (5, 10)
    kitchen = stations.get_station("Kitchen")
    with pytest.raises(Invalid):
        stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                                address=None, settings={"lateAfterMinutes": "nonsense"})
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings={"warnAfterMinutes": "3"},
                            version=kitchen.version)
    found = board(manager)
    assert (found.warn_minutes, found.late_minutes) == (3, 10)
    # A value stored before thresholds were checked reads as the default.
    db.session.execute(update(Station).where(Station.name == "Kitchen").values(
        settings={"warnAfterMinutes": "3", "lateAfterMinutes": "nonsense"}))
    db.session.commit()
    found = board(manager)
    assert (found.warn_minutes, found.late_minutes) == (3, 10)


def test_unknown_station_is_not_found(shift, manager):
    with pytest.raises(NotFound):
        board(manager, "Nowhere")


# --- taps -----------------------------------------------------------------------------------

def test_tapping_an_item_moves_its_cell_one_stage_and_records_a_cell_change(shift, manager):
    _, o1, _, _ = shift
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=1,
                       seen=N)
    assert cell_statuses(o1.id) == {1: P, 2: N}
    assert cell_statuses(o1.id, "Pass") == {1: N}  # the burger at the pass is its own cell
    last = events(o1.id)[-1]
    assert (last.level, last.target, last.from_status, last.to_status, last.user_name) == (
        "cell", "Kitchen / item 1 Burger", N, P, "manager")
    for stage in (R, C):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=1)
        assert cell_statuses(o1.id)[1] == stage
    with pytest.raises(Conflict, match="no next stage"):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=1)


def test_a_tap_on_a_stale_screen_changes_nothing(shift, manager):
    _, o1, _, _ = shift
    set_item_status(user=manager, order_id=o1.id, item_id=2, status=R)
    version = db.session.get(Order, o1.id).version
    with pytest.raises(Conflict, match="changed meanwhile"):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=2,
                           seen=N)
    with pytest.raises(Conflict, match="changed meanwhile"):
        kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=o1.id, seen=P)
    db.session.expire_all()
    assert db.session.get(Order, o1.id).version == version
    assert cell_statuses(o1.id) == {1: N, 2: R}


def test_tapping_the_header_moves_the_whole_entry_one_stage(shift, manager):
    _, o1, _, _ = shift
    kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=o1.id, seen=N)
    assert cell_statuses(o1.id) == {1: P, 2: P}
    last = events(o1.id)[-1]
    assert (last.level, last.target, last.to_status) == ("station", "Kitchen", P)


def test_advancing_an_entry_never_takes_an_item_back(shift, manager):
    _, o1, _, _ = shift
    set_cell_status(user=manager, order_id=o1.id, item_id=2, station_name="Kitchen", status=R)
    kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=o1.id, seen=N)
    assert cell_statuses(o1.id) == {1: P, 2: R}


def test_bump_completes_the_station_entry_only(shift, manager):
    _, o1, _, o3 = shift
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)
    assert cell_statuses(o1.id) == {1: C, 2: C}
    assert cell_statuses(o1.id, "Pass") == {1: N}
    assert numbers(board(manager)) == [o3.number]


def test_a_kiosk_cannot_touch_what_is_not_on_its_screen(app, shift, catalog, waiter, manager):
    _, o1, o2, _ = shift
    with pytest.raises(NotFound):
        kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o2.id)  # bar only
    app.config["AUTO_PROCESS"] = False
    _, (waiting,) = make_ticket(waiter, catalog, ("FRIES", 1))
    with pytest.raises(NotFound, match="not on the Kitchen screen"):
        kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=waiting.id)
    with pytest.raises(NotFound):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=9)


def test_cancelled_is_final_for_a_kiosk_too(shift, manager):
    _, o1, _, _ = shift
    set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen", status=X)
    with pytest.raises(Conflict):
        set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen",
                        status=N)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)
    assert cell_statuses(o1.id) == {1: X, 2: C}


# --- recall -----------------------------------------------------------------------------------

def test_recall_brings_back_the_last_bumped_card_one_stage_back(shift, manager):
    _, o1, _, o3 = shift
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o3.id)
    assert numbers(board(manager)) == []
    recalled = kiosk.recall_entry(viewer=manager, station_name="Kitchen")
    assert recalled.id == o3.id and cell_statuses(o3.id) == {1: R}
    assert numbers(board(manager)) == [o3.number]
    # The next recall skips the card already back on screen and takes the one before.
    assert kiosk.recall_entry(viewer=manager, station_name="Kitchen").id == o1.id
    assert cell_statuses(o1.id) == {1: R, 2: R}
    with pytest.raises(NotFound, match="Nothing to recall"):
        kiosk.recall_entry(viewer=manager, station_name="Kitchen")


def test_recall_counts_item_taps_and_ignores_other_stations_and_whole_order_changes(
        shift, manager):
    _, o1, o2, o3 = shift
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o3.id, item_id=1)
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o3.id, item_id=1)
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o3.id, item_id=1)
    kiosk.bump_entry(viewer=manager, station_name="Bar", order_id=o2.id)
    set_order_status(user=manager, order_id=o1.id, status=C)  # the dashboard, not a bump
    assert kiosk.recall_entry(viewer=manager, station_name="Kitchen").id == o3.id
    with pytest.raises(NotFound):
        kiosk.recall_entry(viewer=manager, station_name="Kitchen")


def test_recall_skips_a_deleted_order(shift, manager):
    _, o1, _, o3 = shift
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o3.id)
    orders.delete_order(user=manager, order_id=o3.id)
    assert kiosk.recall_entry(viewer=manager, station_name="Kitchen").id == o1.id


# --- void orders --------------------------------------------------------------------------------

@pytest.fixture
def voided(shift, catalog, waiter):
    t1, o1, _, _ = shift
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t1.id, name="Table 1",
                               lines=lines(("BURGER", 1), ("FRIES", 1)))
    return o1, void


def test_a_void_order_is_a_card_until_acknowledged(voided, manager):
    o1, void = voided
    card = next(c for c in board(manager).cards if c.order.id == void.id)
    assert card.order.is_void and [(ln.item.name, ln.item.quantity) for ln in card.lines] == [
        ("Burger", Decimal(-1))]
    kiosk.acknowledge_void(viewer=manager, station_name="Kitchen", order_id=void.id)
    assert void.id not in [c.order.id for c in board(manager).cards]
    assert cell_statuses(void.id) == {1: C}
    seen = events(void.id, "acknowledged")
    assert len(seen) == 1 and seen[0].target == "Kitchen" and seen[0].user_name == "manager"
    # The pass still has to acknowledge its own part.
    assert void.id in [c.order.id for c in board(manager, "Pass").cards]
    with pytest.raises(Conflict, match="not a void order"):
        kiosk.acknowledge_void(viewer=manager, station_name="Kitchen", order_id=o1.id)


# --- all day ------------------------------------------------------------------------------------

def test_all_day_counts_what_is_waiting_per_product_and_voids_subtract(voided, manager):
    assert board(manager).all_day == [("FRIES", "Fries", Decimal(4)),
                                      ("BURGER", "Burger", Decimal(1))]
    o1, _ = voided
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=2)
    assert board(manager).all_day[0] == ("FRIES", "Fries", Decimal(4))  # Processing: waiting
    set_cell_status(user=manager, order_id=o1.id, item_id=2, station_name="Kitchen", status=C)
    assert board(manager).all_day == [("FRIES", "Fries", Decimal(3)),
                                      ("BURGER", "Burger", Decimal(1))]
    assert board(manager, "Bar").all_day == [("COLA", "Cola", Decimal(1))]


# --- the live poll --------------------------------------------------------------------------

def test_the_poll_sees_no_change_until_an_order_changes(shift, manager):
    _, o1, _, _ = shift
    version = board(manager).version
    assert version == history.change_counter()
    assert kiosk.is_unchanged(viewer=manager, target="Kitchen", version=str(version))
    assert not kiosk.is_unchanged(viewer=manager, target="Kitchen", version=None)
    set_order_status(user=manager, order_id=o1.id, status=P)
    assert not kiosk.is_unchanged(viewer=manager, target="Kitchen", version=str(version))


# --- expo -----------------------------------------------------------------------------------

def test_expo_shows_open_orders_with_each_stations_progress(shift, manager):
    _, o1, o2, o3 = shift
    set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen", status=R)
    found = kiosk.get_expo_board(viewer=manager)
    assert numbers(found) == [o1.number, o2.number, o3.number]
    first = found.cards[0]
    assert [(s.name, s.status, s.dispatched, s.done, s.live) for s in first.stations] == [
        ("Kitchen", N, True, 1, 2), ("Pass", N, True, 0, 1)]
    assert not first.can_complete and first.waiting_for == ["Kitchen", "Pass"]
    set_order_status(user=manager, order_id=o2.id, status=C)
    assert numbers(kiosk.get_expo_board(viewer=manager)) == [o1.number, o3.number]


def test_expo_completes_an_order_only_when_every_station_is_ready(shift, manager):
    _, o1, _, _ = shift
    with pytest.raises(Conflict, match="once every station"):
        kiosk.complete_order(viewer=manager, order_id=o1.id)
    set_entry_status(user=manager, order_id=o1.id, station_name="Kitchen", status=R)
    set_entry_status(user=manager, order_id=o1.id, station_name="Pass", status=R)
    card = kiosk.get_expo_board(viewer=manager).cards[0]
    assert card.can_complete
    done = kiosk.complete_order(viewer=manager, order_id=o1.id)
    assert done.status == C and done.completed_at is not None
    assert events(o1.id)[-1].level == "order"


# --- rights and kiosk links -----------------------------------------------------------------

def test_people_need_an_order_right_to_look_and_orderupdate_to_tap(shift, waiter):
    _, o1, _, _ = shift
    with pytest.raises(Forbidden):
        board(waiter)
    with pytest.raises(Forbidden):
        kiosk.get_expo_board(viewer=waiter)
    reader = make_user("reader", ["orderRead"])
    assert numbers(board(reader))
    for tap in (lambda: kiosk.bump_entry(viewer=reader, station_name="Kitchen", order_id=o1.id),
                lambda: kiosk.recall_entry(viewer=reader, station_name="Kitchen"),
                lambda: kiosk.complete_order(viewer=reader, order_id=o1.id)):
        with pytest.raises(Forbidden):
            tap()
    assert cell_statuses(o1.id) == {1: N, 2: N}


def test_only_admins_manage_kiosk_links(shift, admin, manager):
    for call in (lambda: kiosk_links.list_kiosk_links(user=manager),
                 lambda: kiosk_links.create_kiosk_link(user=manager, station_name="Kitchen",
                                                       name="x"),
                 lambda: kiosk_links.revoke_kiosk_link(user=manager, link_id=1)):
        with pytest.raises(Forbidden):
            call()
    with pytest.raises(Invalid) as refused:
        kiosk_links.create_kiosk_link(user=admin, station_name="Nowhere", name=" ")
    assert {e.member_name for e in refused.value.errors} == {"name", "target"}


def test_a_link_secret_is_stored_only_as_its_hash(shift, admin):
    _, link, secret = make_actor(admin)
    stored = db.session.scalar(select(KioskLink).where(KioskLink.id == link.id))
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = db.session.execute(text("SELECT * FROM kiosk_links")).one()
    assert secret not in [str(v) for v in row]
    assert kiosk_links.open_kiosk_link(secret=secret).id == link.id
    assert [k.id for k in kiosk_links.list_kiosk_links(user=admin)] == [link.id]
    assert link.created_by == "admin" and link.target_name == "Kitchen"


def test_a_kiosk_link_views_and_bumps_its_own_station_and_nothing_else(shift, admin):
    _, o1, o2, o3 = shift
    actor, _, _ = make_actor(admin)
    assert numbers(board(actor)) == [o1.number, o3.number]
    kiosk.advance_cell(viewer=actor, station_name="Kitchen", order_id=o1.id, item_id=1)
    kiosk.bump_entry(viewer=actor, station_name="Kitchen", order_id=o3.id)
    assert kiosk.recall_entry(viewer=actor, station_name="Kitchen").id == o3.id
    assert events(o1.id)[-1].user_name == "kiosk Kitchen wall"
    refused = [
        lambda: board(actor, "Bar"),
        lambda: board(actor, "Pass"),
        lambda: kiosk.get_expo_board(viewer=actor),
        lambda: kiosk.bump_entry(viewer=actor, station_name="Bar", order_id=o2.id),
        lambda: kiosk.bump_entry(viewer=actor, station_name="Pass", order_id=o1.id),
        lambda: kiosk.advance_entry(viewer=actor, station_name="Pass", order_id=o1.id),
        lambda: kiosk.recall_entry(viewer=actor, station_name="Bar"),
        lambda: kiosk.complete_order(viewer=actor, order_id=o1.id),
        lambda: kiosk.is_unchanged(viewer=actor, target="Bar", version="1"),
        lambda: kiosk_links.list_kiosk_links(user=actor),
        lambda: kiosk_links.create_kiosk_link(user=actor, station_name="Bar", name="sneaky"),
    ]
    for call in refused:
        with pytest.raises(Forbidden):
            call()
    assert cell_statuses(o2.id, "Bar") == {1: N}


def test_an_expo_link_sees_and_completes_on_the_expo_only(shift, admin, manager):
    _, o1, _, _ = shift
    actor, link, _ = make_actor(admin, "expo", "Pass screen")
    assert link.is_expo and link.target_name == "expo"
    set_order_status(user=manager, order_id=o1.id, status=R)
    assert kiosk.complete_order(viewer=actor, order_id=o1.id).status == C
    with pytest.raises(Forbidden):
        board(actor, "Kitchen")


def test_a_station_named_expo_does_not_open_the_expo_screen(shift, admin):
    stations.create_station(name="expo")
    actor, _, _ = make_actor(admin, "expo-station", "Sneaky")
    with pytest.raises(Forbidden):
        kiosk.get_expo_board(viewer=actor)


def test_a_revoked_link_stops_working(shift, admin):
    actor, link, secret = make_actor(admin)
    assert kiosk_links.get_kiosk_actor(link.id) == actor
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    assert kiosk_links.get_kiosk_actor(link.id) is None
    with pytest.raises(Forbidden):
        kiosk_links.open_kiosk_link(secret=secret)
    with pytest.raises(Forbidden):
        kiosk_links.open_kiosk_link(secret="kio_not-a-secret")
    with pytest.raises(NotFound):
        kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id + 100)
    assert kiosk_links.get_kiosk_actor("nonsense") is None


def test_deleting_a_station_deletes_its_links(app, admin):
    stations.create_station(name="Grill")
    make_actor(admin, "Grill", "Grill screen")
    stations.delete_station("Grill")
    db.session.expire_all()
    assert db.session.scalars(select(KioskLink)).all() == []


# --- the cell level of order_status ---------------------------------------------------------

def test_set_cell_status_follows_the_same_rules_as_the_other_levels(shift, manager, waiter):
    _, o1, _, _ = shift
    with pytest.raises(Forbidden):
        set_cell_status(user=waiter, order_id=o1.id, item_id=1, station_name="Kitchen",
                        status=P)
    with pytest.raises(Invalid):
        set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen",
                        status="Done")
    with pytest.raises(NotFound):
        set_cell_status(user=manager, order_id=o1.id, item_id=2, station_name="Pass",
                        status=P)
    version = set_cell_status(user=manager, order_id=o1.id, item_id=1,
                              station_name="Kitchen", status=C).version
    with pytest.raises(Conflict):  # back two stages
        set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen",
                        status=P)
    with pytest.raises(VersionMismatch):
        set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen",
                        status=R, version=version - 1)
    back = set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen",
                           status=R, version=version)
    assert back.version == version + 1 and back.status == N
