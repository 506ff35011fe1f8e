"""The status model (contract 2.3): app.core.status, and the three service entry points that set
a status on an order, one item, or one station entry."""
import itertools

import pytest
from sqlalchemy import func, select

from app.api.serializers import order_json
from app.core import status as S
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models.orders import Order, OrderCell, OrderEvent
from app.services import orders
from app.services.order_status import set_entry_status, set_item_status, set_order_status
from tests.conftest import make_ticket, make_user

N, P, R, C, X = S.NEW, S.PROCESSING, S.READY, S.COMPLETED, S.CANCELLED


# --- app.core.status -------------------------------------------------------------------------------

@pytest.mark.parametrize("cells, expected", [
    ([N], N),
    ([X], X),
    ([X, X, X], X),
    ([C, C], C),
    ([C, X], C),
    ([R, C], R),
    ([C, R, P], P),
    ([N, C, X], N),
    ([X, R, X, C], R),
    ([P, P, X], P),
])
def test_aggregate_is_cancelled_only_when_all_are_else_lowest_live_stage(cells, expected):
    assert S.aggregate(cells) == expected
    assert S.aggregate(reversed(cells)) == expected


# The full 5x5 table of contract 2.3: rows are the current status, columns the target.
MOVES = {
    N: {N: True, P: True, R: True, C: True, X: True},
    P: {N: True, P: True, R: True, C: True, X: True},
    R: {N: False, P: True, R: True, C: True, X: True},
    C: {N: False, P: False, R: True, C: True, X: True},
    X: {N: False, P: False, R: False, C: False, X: True},
}


@pytest.mark.parametrize("current, target", list(itertools.product(S.ALL, S.ALL)))
def test_move_allowed_follows_the_table(current, target):
    assert S.move_allowed(current, target) is MOVES[current][target]


@pytest.mark.parametrize("cells, moves, step", [
    ([N], [P, R, C, X], P),
    ([P, P], [N, R, C, X], R),
    ([C], [R, X], None),                 # back one, or cancelled; nothing further on
    ([X, X], [], None),                  # Cancelled is final: nothing at all
    ([N, R], [P, R, C, X], R),           # never New (two back for Ready); no cell goes back
    ([N, C], [R, C, X], C),
    ([R, X], [P, C, X], C),              # the cancelled cell stays out of it
])
def test_a_levels_moves_and_its_next_step(cells, moves, step):
    """What the order page offers (app.web.order_controls): every move each live cell allows,
    none that changes nothing; the next step is the first stage on that moves no cell back."""
    assert S.allowed_moves(cells) == moves
    assert S.next_step(cells) == step
    assert all(S.move_allowed(c, m) for c in cells if c != X for m in moves)


def test_canonical_matches_names_case_insensitively_and_nothing_else():
    assert S.canonical("completed") == C
    assert S.canonical(" READY ") == R
    assert S.canonical("Done") is None
    assert S.canonical("") is None
    assert S.canonical(3) is None
    assert S.canonical(None) is None


# --- helpers ----------------------------------------------------------------------------------

def _order(waiter, catalog, *pairs):
    _, made = make_ticket(waiter, catalog, *pairs)
    (order,) = made
    return order.id


def _json(manager, order_id) -> dict:
    db.session.expire_all()
    return order_json(orders.get_order(user=manager, order_id=order_id, include_history=True),
                      include_history=True)


def _cells(order_id) -> dict:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    return {(c.item.item_no, c.entry.station.name): c.status for c in order.cells}


def _events(order_id) -> list[OrderEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


def _snapshot(order_id):
    """Everything a refused change must leave alone."""
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    return (_cells(order_id), order.version, order.status, order.completed_at,
            order.last_saved_at, len(_events(order_id)))


@pytest.fixture
def burger_cola(catalog, waiter):
    """Item 1 BURGER at Kitchen and Pass, item 2 COLA at Bar: three cells."""
    return _order(waiter, catalog, ("BURGER", 1), ("COLA", 2))


# --- setting a level sets every live cell below it ---------------------------------------------

def test_order_status_sets_every_cell(burger_cola, manager):
    order = set_order_status(user=manager, order_id=burger_cola, status=P)
    assert order.status == P
    assert _cells(burger_cola) == {(1, "Kitchen"): P, (1, "Pass"): P, (2, "Bar"): P}
    body = _json(manager, burger_cola)
    assert body["status"] == P
    assert [i["status"] for i in body["items"]] == [P, P]
    assert {e["name"]: e["status"] for e in body["endpoints"]} == {
        "Kitchen": P, "Bar": P, "Pass": P}


def test_item_status_sets_only_that_items_cells(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=R)
    assert _cells(burger_cola) == {(1, "Kitchen"): R, (1, "Pass"): R, (2, "Bar"): N}
    body = _json(manager, burger_cola)
    assert body["status"] == N
    assert [i["status"] for i in body["items"]] == [R, N]
    assert body["items"][0]["endpoints"] == [{"name": "Kitchen", "status": R},
                                             {"name": "Pass", "status": R}]
    assert {e["name"]: e["status"] for e in body["endpoints"]} == {
        "Kitchen": R, "Bar": N, "Pass": R}


def test_entry_status_sets_only_that_stations_cells(burger_cola, manager):
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=C)
    assert _cells(burger_cola) == {(1, "Kitchen"): C, (1, "Pass"): N, (2, "Bar"): N}
    body = _json(manager, burger_cola)
    # The burger is done in the kitchen but not at the pass: the item is still New.
    assert [i["status"] for i in body["items"]] == [N, N]
    assert {e["name"]: e["status"] for e in body["endpoints"]} == {
        "Kitchen": C, "Bar": N, "Pass": N}
    assert body["status"] == N and body["completedDateUtc"] is None


def test_derived_statuses_after_mixed_moves(burger_cola, manager):
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=R)
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    body = _json(manager, burger_cola)
    assert _cells(burger_cola) == {(1, "Kitchen"): R, (1, "Pass"): N, (2, "Bar"): X}
    assert [i["status"] for i in body["items"]] == [N, X]
    assert {e["name"]: e["status"] for e in body["endpoints"]} == {
        "Kitchen": R, "Bar": X, "Pass": N}
    assert body["status"] == N

    set_entry_status(user=manager, order_id=burger_cola, station_name="Pass", status=P)
    body = _json(manager, burger_cola)
    assert [i["status"] for i in body["items"]] == [P, X]
    assert body["status"] == P  # the cancelled cola no longer counts

    # Setting the whole order leaves the cancelled cell alone.
    set_order_status(user=manager, order_id=burger_cola, status=C)
    assert _cells(burger_cola) == {(1, "Kitchen"): C, (1, "Pass"): C, (2, "Bar"): X}
    body = _json(manager, burger_cola)
    assert body["status"] == C
    assert [i["status"] for i in body["items"]] == [C, X]
    assert {e["name"]: e["status"] for e in body["endpoints"]} == {
        "Kitchen": C, "Bar": X, "Pass": C}


def test_cancelling_every_cell_cancels_the_order(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=X)
    assert _json(manager, burger_cola)["status"] == N
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    body = _json(manager, burger_cola)
    assert body["status"] == X
    assert body["isProcessable"] is False
    assert set(_cells(burger_cola).values()) == {X}


def test_status_names_are_case_insensitive(burger_cola, manager):
    set_order_status(user=manager, order_id=burger_cola, status="ready")
    assert set(_cells(burger_cola).values()) == {R}


def test_order_level_move_back_one_stage_is_allowed(burger_cola, manager):
    set_order_status(user=manager, order_id=burger_cola, status=C)
    set_order_status(user=manager, order_id=burger_cola, status=R)
    assert set(_cells(burger_cola).values()) == {R}


def test_forward_by_several_stages_is_allowed(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=C)
    assert _cells(burger_cola)[(2, "Bar")] == C


# --- refused moves change nothing --------------------------------------------------------------

def _assert_refused(order_id, change):
    before = _snapshot(order_id)
    with pytest.raises(Conflict) as caught:
        change()
    assert caught.value.errors[0].member_name == "status"
    db.session.rollback()
    assert _snapshot(order_id) == before


def test_completed_to_new_is_refused(burger_cola, manager):
    set_order_status(user=manager, order_id=burger_cola, status=C)
    _assert_refused(burger_cola, lambda: set_order_status(
        user=manager, order_id=burger_cola, status=N))
    _assert_refused(burger_cola, lambda: set_item_status(
        user=manager, order_id=burger_cola, item_id=1, status=P))
    _assert_refused(burger_cola, lambda: set_entry_status(
        user=manager, order_id=burger_cola, station_name="Bar", status=N))


def test_one_refused_cell_refuses_the_whole_order_move(burger_cola, manager):
    # Kitchen is Completed, the rest New: moving the order to New is fine for two cells and
    # not for the kitchen one, so nothing moves.
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=C)
    set_entry_status(user=manager, order_id=burger_cola, station_name="Bar", status=P)
    _assert_refused(burger_cola, lambda: set_order_status(
        user=manager, order_id=burger_cola, status=N))
    assert _cells(burger_cola) == {(1, "Kitchen"): C, (1, "Pass"): N, (2, "Bar"): P}


def test_any_move_from_a_cancelled_item_is_refused(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    for target in (N, P, R, C):
        _assert_refused(burger_cola, lambda target=target: set_item_status(
            user=manager, order_id=burger_cola, item_id=2, status=target))
    _assert_refused(burger_cola, lambda: set_entry_status(
        user=manager, order_id=burger_cola, station_name="Bar", status=P))


def test_moves_on_a_cancelled_order_are_refused(burger_cola, manager):
    set_order_status(user=manager, order_id=burger_cola, status=X)
    _assert_refused(burger_cola, lambda: set_order_status(
        user=manager, order_id=burger_cola, status=N))


def test_cancelling_something_cancelled_changes_nothing(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    before = _snapshot(burger_cola)
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    assert _snapshot(burger_cola) == before


@pytest.mark.parametrize("name", ["Done", "", "Newish", None, 3])
def test_unknown_status_is_invalid_and_changes_nothing(burger_cola, manager, name):
    before = _snapshot(burger_cola)
    with pytest.raises(Invalid) as caught:
        set_order_status(user=manager, order_id=burger_cola, status=name)
    assert [e.member_name for e in caught.value.errors] == ["status"]
    assert _snapshot(burger_cola) == before


def test_stale_version_is_refused_and_changes_nothing(burger_cola, manager):
    current = _json(manager, burger_cola)["_v"]
    set_order_status(user=manager, order_id=burger_cola, status=P, version=current)
    before = _snapshot(burger_cola)
    assert before[1] == current + 1
    for change in (
        lambda: set_order_status(user=manager, order_id=burger_cola, status=R, version=current),
        lambda: set_item_status(user=manager, order_id=burger_cola, item_id=1, status=R,
                                version=current),
        lambda: set_entry_status(user=manager, order_id=burger_cola, station_name="Bar",
                                 status=R, version=current),
    ):
        with pytest.raises(VersionMismatch) as caught:
            change()
        assert caught.value.current_version == current + 1
        db.session.rollback()
        assert _snapshot(burger_cola) == before
    # The current version is accepted.
    set_order_status(user=manager, order_id=burger_cola, status=R, version=current + 1)
    assert set(_cells(burger_cola).values()) == {R}


def test_same_status_changes_nothing(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=P)
    before = _snapshot(burger_cola)
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=P)
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=P)
    set_order_status(user=manager, order_id=burger_cola, status=N)  # item 1 back one, item 2 New
    after = _snapshot(burger_cola)
    assert after[1] == before[1] + 1  # only the last call changed anything
    assert after[5] == before[5] + 1
    before = after
    set_order_status(user=manager, order_id=burger_cola, status=N)
    assert _snapshot(burger_cola) == before


def test_unknown_item_or_station_or_order_is_not_found(burger_cola, manager):
    before = _snapshot(burger_cola)
    with pytest.raises(NotFound):
        set_item_status(user=manager, order_id=burger_cola, item_id=3, status=P)
    db.session.rollback()
    with pytest.raises(NotFound):
        set_entry_status(user=manager, order_id=burger_cola, station_name="Nowhere", status=P)
    db.session.rollback()
    # Station names in the path are matched exactly.
    with pytest.raises(NotFound):
        set_entry_status(user=manager, order_id=burger_cola, station_name="kitchen", status=P)
    db.session.rollback()
    with pytest.raises(NotFound):
        set_order_status(user=manager, order_id="00000000-0000-0000-0000-000000000000",
                         status=P)
    db.session.rollback()
    assert _snapshot(burger_cola) == before


def test_station_not_on_the_order_is_not_found(catalog, waiter, manager):
    order_id = _order(waiter, catalog, ("COLA", 1))
    with pytest.raises(NotFound):
        set_entry_status(user=manager, order_id=order_id, station_name="Kitchen", status=P)


def test_deleted_order_cannot_change(burger_cola, manager):
    orders.delete_order(user=manager, order_id=burger_cola)
    with pytest.raises(NotFound):
        set_order_status(user=manager, order_id=burger_cola, status=P)


# --- completion date ---------------------------------------------------------------------------

def test_completed_date_set_on_completion_and_cleared_when_moved_back(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=C)
    assert _json(manager, burger_cola)["completedDateUtc"] is None
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=C)
    body = _json(manager, burger_cola)
    assert body["status"] == C
    completed = body["completedDateUtc"]
    assert completed is not None and completed.endswith("Z")
    assert completed >= body["createdDateUtc"]
    assert body["lastSavedDateUtc"] == completed

    set_entry_status(user=manager, order_id=burger_cola, station_name="Pass", status=R)
    body = _json(manager, burger_cola)
    assert body["status"] == R and body["completedDateUtc"] is None


def test_order_completes_when_the_rest_is_cancelled(burger_cola, manager):
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=C)
    set_item_status(user=manager, order_id=burger_cola, item_id=2, status=X)
    body = _json(manager, burger_cola)
    assert body["status"] == C and body["completedDateUtc"] is not None


# --- history -----------------------------------------------------------------------------------

def test_history_records_each_change(burger_cola, catalog, waiter, manager):
    other = make_user("floor", ["orderUpdate"], name="Flo")
    created = len(_events(burger_cola))
    set_order_status(user=manager, order_id=burger_cola, status=P)
    set_item_status(user=other, order_id=burger_cola, item_id=2, status=C)
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=X)
    events = [e for e in _events(burger_cola)[created:]]
    assert [(e.action, e.level, e.from_status, e.to_status, e.user_name) for e in events] == [
        ("status", "order", N, P, "manager"),
        ("status", "item", P, C, "floor"),
        ("status", "station", P, X, "manager"),
    ]
    number = _json(manager, burger_cola)["number"]
    assert str(number) in events[0].target
    assert "2" in events[1].target and "Cola" in events[1].target
    assert events[2].target == "Kitchen"
    assert all(e.at is not None for e in events)
    assert events[0].at <= events[1].at <= events[2].at
    # A refused or empty change records nothing.
    set_entry_status(user=manager, order_id=burger_cola, station_name="Kitchen", status=X)
    with pytest.raises(Conflict):
        set_item_status(user=manager, order_id=burger_cola, item_id=2, status=N)
    db.session.rollback()
    assert len(_events(burger_cola)) == created + 3


def test_each_change_bumps_the_version_once_and_the_save_date(burger_cola, manager):
    first = _json(manager, burger_cola)
    set_item_status(user=manager, order_id=burger_cola, item_id=1, status=R)
    second = _json(manager, burger_cola)
    assert second["_v"] == first["_v"] + 1
    assert second["lastSavedDateUtc"] >= first["lastSavedDateUtc"]


# --- rights ------------------------------------------------------------------------------------

@pytest.mark.parametrize("rights", [[], ["orderRead", "orderProcess", "orderDelete",
                                         "ticketCreate", "ticketUpdate"]])
def test_without_order_update_right_is_forbidden(burger_cola, rights):
    user = make_user("nobody", rights)
    before = _snapshot(burger_cola)
    for change in (
        lambda: set_order_status(user=user, order_id=burger_cola, status=P),
        lambda: set_item_status(user=user, order_id=burger_cola, item_id=1, status=P),
        lambda: set_entry_status(user=user, order_id=burger_cola, station_name="Bar", status=P),
    ):
        with pytest.raises(Forbidden):
            change()
    assert _snapshot(burger_cola) == before


def test_admin_may_change_a_status(burger_cola, admin):
    set_order_status(user=admin, order_id=burger_cola, status=R)
    assert set(_cells(burger_cola).values()) == {R}


def test_cells_are_stored_not_only_derived(burger_cola, manager):
    set_entry_status(user=manager, order_id=burger_cola, station_name="Bar", status=R)
    db.session.expire_all()
    stored = db.session.scalar(select(func.count()).select_from(OrderCell).where(
        OrderCell.order_id == burger_cola, OrderCell.status == R))
    assert stored == 1
    assert db.session.get(Order, burger_cola).status == N
