"""What a station screen needs beyond its cards: the orders a void order cancels (worked out from
the ticket's orders, newest first), its card placed right after theirs with a mark on both, and
the station's compact setting, checked when saved."""
from decimal import Decimal

import pytest

from app.core import status as S
from app.core.errors import Invalid
from app.services import kiosk, stations
from app.services.order_status import set_entry_status
from app.services.tickets import update_ticket
from app.services.voids import find_void_links
from tests.conftest import counted_statements, lines, make_ticket


def board(viewer, station="Kitchen"):
    return kiosk.get_station_board(viewer=viewer, station_name=station)


def numbers(found) -> list[int]:
    return [card.order.number for card in found.cards]


def marks(found) -> dict[int, tuple]:
    return {card.order.number: (card.voids, card.voided_by) for card in found.cards
            if card.voids or card.voided_by}


def change(waiter, catalog, ticket, *items):
    _, made = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name=ticket.name,
                            lines=lines(*items))
    return made


@pytest.fixture
def rounds(catalog, waiter):
    """Table 1 orders 2 burgers (#1), Table 2 fries (#2), Table 1 a third burger and fries
    (#3), then Table 3 fries (#4)."""
    t1, (o1,) = make_ticket(waiter, catalog, ("BURGER", 2), name="Table 1")
    _, (o2,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 2")
    (o3,) = change(waiter, catalog, t1, ("BURGER", 3), ("FRIES", 1))
    _, (o4,) = make_ticket(waiter, catalog, ("FRIES", 2), name="Table 3")
    return t1, o1, o2, o3, o4


def test_a_void_cancels_the_newest_orders_of_its_ticket_first(rounds, catalog, waiter):
    t1, o1, _, o3, _ = rounds
    (void,) = change(waiter, catalog, t1, ("BURGER", 2), ("FRIES", 1))  # one burger back
    links = find_void_links([t1.id])
    assert [r.number for r in links.cancels[void.id]] == [o3.number]
    assert [r.number for r in links.cancelled_by[o3.id]] == [void.number]
    assert o1.id not in links.cancelled_by
    # Taking two more burgers back reaches past #3's one burger into #1's two, and the fries
    # of #3.
    (second,) = change(waiter, catalog, t1, ("BURGER", 0.5))
    links = find_void_links([t1.id])
    assert [r.number for r in links.cancels[second.id]] == [o1.number, o3.number]
    assert [r.number for r in links.cancelled_by[o1.id]] == [second.number]
    assert [r.number for r in links.cancelled_by[o3.id]] == [void.number, second.number]


def test_tickets_without_a_void_cost_one_statement_and_link_nothing(rounds):
    ticket_id = rounds[0].id
    with counted_statements() as statements:
        assert find_void_links([ticket_id, None]).cancels == {}
        assert find_void_links([]).cancelled_by == {}
    assert len([s for s in statements if not s.lstrip().upper().startswith("BEGIN")]) == 1


def test_a_void_card_follows_the_card_it_cancels_and_both_are_marked(rounds, catalog, waiter,
                                                                     manager):
    t1, o1, o2, o3, o4 = rounds
    (void,) = change(waiter, catalog, t1, ("BURGER", 3))  # the fries of #3 back
    found = board(manager)
    assert numbers(found) == [o1.number, o2.number, o3.number, void.number, o4.number]
    assert marks(found) == {o3.number: ((), (void.number,)), void.number: ((o3.number,), ())}
    # The pass has no fries: the void order is not routed there, nothing is marked.
    assert marks(board(manager, "Pass")) == {}


def test_a_void_whose_original_left_the_screen_keeps_its_place_and_its_mark(
        rounds, catalog, waiter, manager):
    t1, o1, o2, o3, o4 = rounds
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o3.id)
    (void,) = change(waiter, catalog, t1, ("BURGER", 2), ("FRIES", 1))
    found = board(manager)
    assert numbers(found) == [o1.number, o2.number, o4.number, void.number]
    assert marks(found) == {void.number: ((o3.number,), ())}
    # Acknowledged, the void card goes; its original, back on screen, still says who voided it.
    kiosk.acknowledge_void(viewer=manager, station_name="Kitchen", order_id=void.id)
    set_entry_status(user=manager, order_id=o3.id, station_name="Kitchen", status=S.READY)
    assert marks(board(manager)) == {o3.number: ((), (void.number,))}


def test_the_all_day_counts_still_take_a_void_off(rounds, catalog, waiter, manager):
    t1 = rounds[0]
    change(waiter, catalog, t1, ("BURGER", 1), ("FRIES", 1))
    assert {code: n for code, _, n in board(manager).all_day} == {
        "BURGER": Decimal(1), "FRIES": Decimal(4)}


# --- the compact setting ----------------------------------------------------------------------

def set_settings(settings: dict):
    kitchen = stations.get_station("Kitchen")
    return stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                                   address=None, settings=settings, version=kitchen.version)


@pytest.mark.parametrize("value, compact", [("on", True), ("Yes", True), (" true ", True),
                                            ("1", True), ("off", False), ("NO", False)])
def test_compact_is_a_station_setting_read_by_the_board(catalog, manager, value, compact):
    assert board(manager).compact is False  # the default
    set_settings({"compact": value, "warnAfterMinutes": "3"})
    found = board(manager)
    assert found.compact is compact and found.warn_minutes == 3


def test_a_compact_setting_that_is_neither_on_nor_off_is_refused(catalog):
    with pytest.raises(Invalid) as refused:
        set_settings({"compact": "sometimes"})
    assert [(e.member_name, e.message) for e in refused.value.errors] == [
        ("settings", "compact must be on or off (true/false, yes/no, 1/0), not 'sometimes'.")]
    assert stations.get_station("Kitchen").settings == {}
    with pytest.raises(Invalid):
        stations.create_station(name="Grill", settings={"compact": ""})
