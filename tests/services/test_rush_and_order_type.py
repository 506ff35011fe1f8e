"""Rush orders (first on every station screen and the expo) and order types (dine-in, takeout,
delivery, web), which decide which stations an order's items are routed to."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core import order_types as OT
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models import Station
from app.models.orders import Order, OrderEvent
from app.services import counts, history, integrity, kiosk, order_rush, products, stations
from app.services.tickets import create_ticket, update_ticket
from tests.conftest import lines, make_ticket, make_user


def rush(user, order, is_rush=True, version=None):
    return order_rush.set_order_rush(user=user, order_id=order.id, is_rush=is_rush,
                                     version=version)


def numbers(board) -> list[int]:
    return [card.order.number for card in board.cards]


def routed(order) -> list[str]:
    db.session.expire_all()
    return sorted(e.station.name for e in db.session.get(Order, order.id).entries)


@pytest.fixture
def three_orders(catalog, waiter):
    return [make_ticket(waiter, catalog, ("BURGER", 1), name=f"Table {i}")[1][0]
            for i in (1, 2, 3)]


def test_a_rush_order_comes_first_on_station_screens_and_the_expo(three_orders, manager):
    first, second, third = (o.number for o in three_orders)
    kitchen = kiosk.get_station_board(viewer=manager, station_name="Kitchen")
    assert numbers(kitchen) == [first, second, third]

    rush(manager, three_orders[2])
    for station in ("Kitchen", "Pass"):
        board = kiosk.get_station_board(viewer=manager, station_name=station)
        assert numbers(board) == [third, first, second]
        assert [card.order.is_rush for card in board.cards] == [True, False, False]
    assert numbers(kiosk.get_expo_board(viewer=manager)) == [third, first, second]

    # Two rush orders keep the usual order between them; clearing puts an order back.
    rush(manager, three_orders[1])
    assert numbers(kiosk.get_station_board(viewer=manager, station_name="Kitchen")) == [
        second, third, first]
    rush(manager, three_orders[2], False)
    rush(manager, three_orders[1], False)
    assert numbers(kiosk.get_expo_board(viewer=manager)) == [first, second, third]


def test_setting_rush_bumps_the_version_moves_the_counter_and_is_in_the_history(
        three_orders, manager):
    order = three_orders[0]
    version, changes = order.version, history.change_counter()
    marked = rush(manager, order, version=version)
    assert (marked.is_rush, marked.version) == (True, version + 1)
    assert history.change_counter() == changes + 1
    line = db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "rush")).one()
    assert (line.user_name, line.level, line.detail) == ("manager", "order", "marked rush")

    # Setting what the order has already changes nothing: no version, no history line.
    assert rush(manager, order).version == version + 1
    assert history.change_counter() == changes + 1

    with pytest.raises(VersionMismatch):
        rush(manager, order, False, version=version)
    cleared = rush(manager, order, False, version=version + 1)
    assert (cleared.is_rush, cleared.version) == (False, version + 2)
    assert db.session.scalars(select(OrderEvent.action).where(
        OrderEvent.order_id == order.id, OrderEvent.action.like("rush%"))
        .order_by(OrderEvent.id)).all() == ["rush", "rush cleared"]


def test_rush_needs_order_update_and_a_visible_order(three_orders, waiter, manager):
    with pytest.raises(Forbidden):
        rush(make_user("reader", ["orderRead"]), three_orders[0])
    with pytest.raises(NotFound):
        order_rush.set_order_rush(user=manager, order_id="no-such-order", is_rush=True)
    with pytest.raises(Invalid) as refused:
        order_rush.set_order_rush(user=manager, order_id=three_orders[0].id, is_rush="yes")
    assert refused.value.errors[0].member_name == "isRush"


def test_a_rush_ticket_makes_rush_orders_of_its_type(catalog, waiter):
    ticket, (order,) = create_ticket(user=waiter, device=catalog, name="Window",
                                     lines=lines(("FRIES", 1)), is_rush=True,
                                     order_type="Takeout")
    assert (ticket.is_rush, ticket.order_type) == (True, OT.TAKEOUT)
    assert (order.is_rush, order.order_type) == (True, OT.TAKEOUT)
    # An update that leaves the flag out keeps it; the next order carries it.
    _, (more,) = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Window",
                               lines=lines(("FRIES", 2)))
    assert (more.is_rush, more.order_type) == (True, OT.TAKEOUT)
    # Changing only the flag saves the ticket and generates nothing.
    row, made = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Window",
                              lines=lines(("FRIES", 2)), is_rush=False)
    assert made == [] and row.is_rush is False and row.version == 3
    # The default: dine-in, no rush.
    _, (plain,) = make_ticket(waiter, catalog, ("COLA", 1))
    assert (plain.is_rush, plain.order_type) == (False, OT.DINE_IN)


@pytest.mark.parametrize("order_type", ["pickup", "", "dine in"])
def test_an_unknown_order_type_is_refused_naming_the_member(catalog, waiter, order_type):
    with pytest.raises(Invalid) as refused:
        create_ticket(user=waiter, device=catalog, name="T", lines=lines(("COLA", 1)),
                      order_type=order_type)
    assert [e.member_name for e in refused.value.errors] == ["orderType"]
    assert db.session.scalar(select(Order.id)) is None


@pytest.fixture
def packing(catalog):
    """A packing bench that takes takeout and delivery only; WRAP goes to the Kitchen and
    there, BAG to the bench alone."""
    stations.create_station(name="Packing", settings={"orderTypes": "takeout, Delivery"})
    products.create_product(code="WRAP", name="Wrap", price=Decimal(8),
                            station_names=["Kitchen", "Packing"])
    products.create_product(code="BAG", name="Paper bag", price=Decimal("0.2"),
                            station_names=["Packing"])
    return catalog


def test_a_station_takes_only_the_order_types_it_names(packing, waiter):
    assert stations.get_station("Packing").settings == {"orderTypes": "takeout,delivery"}
    _, (dine_in,) = make_ticket(waiter, packing, ("WRAP", 1), name="Table 1")
    assert routed(dine_in) == ["Kitchen"]
    for kind in (OT.TAKEOUT, OT.DELIVERY):
        _, (order,) = create_ticket(user=waiter, device=packing, name=kind,
                                    lines=lines(("WRAP", 1)), order_type=kind)
        assert routed(order) == ["Kitchen", "Packing"]
    # A product none of whose stations takes the type goes to the device's default station.
    _, (bag,) = make_ticket(waiter, packing, ("BAG", 1), name="Table 2")
    assert routed(bag) == ["Pass"]
    # Without one (or one that does not take the type either) it is refused, naming the line.
    with pytest.raises(Invalid) as refused:
        create_ticket(user=waiter, device=None, name="Table 3",
                      lines=lines(("COLA", 1), ("BAG", 1)))
    assert [e.member_name for e in refused.value.errors] == ["items[1].productCode"]
    assert "takes dineIn orders" in refused.value.errors[0].message
    assert counts.station_count("Packing") == 2
    assert integrity.check_integrity() == []


def test_a_ticket_update_that_changes_its_type_routes_what_it_adds_by_the_new_type(
        packing, waiter, manager):
    ticket, (first,) = make_ticket(waiter, packing, ("WRAP", 1), ("COLA", 1), name="Table 9")
    assert routed(first) == ["Bar", "Kitchen"]
    # The table takes the rest away: one more wrap, now a takeout order, reaches the bench.
    _, (added,) = update_ticket(user=waiter, device=packing, ticket_id=ticket.id,
                                name="Table 9", lines=lines(("WRAP", 2), ("COLA", 1)),
                                order_type="takeout")
    assert added.order_type == OT.TAKEOUT and added.is_void is False
    assert routed(added) == ["Kitchen", "Packing"]
    assert numbers(kiosk.get_station_board(viewer=manager, station_name="Packing")) == [
        added.number]
    # Taking the wraps off voids them where they went: the Kitchen and the bench.
    _, (void,) = update_ticket(user=waiter, device=packing, ticket_id=ticket.id,
                               name="Table 9", lines=lines(("COLA", 1)))
    assert void.is_void and void.order_type == OT.TAKEOUT
    assert routed(void) == ["Kitchen", "Packing"]
    # Back to dine-in: new wraps skip the bench again.
    _, (again,) = update_ticket(user=waiter, device=packing, ticket_id=ticket.id,
                                name="Table 9", lines=lines(("COLA", 1), ("WRAP", 1)),
                                order_type="dineIn")
    assert routed(again) == ["Kitchen"]
    packing_id = db.session.scalar(select(Station.id).where(Station.name == "Packing"))
    assert counts.counted([counts.station_key(packing_id)]) == 2
    assert integrity.check_integrity() == []


@pytest.mark.parametrize("value, message", [
    ("takeout,pickup", "Unknown order type 'pickup'"), (" , ", "at least one order type")])
def test_a_bad_order_types_setting_is_refused(catalog, value, message):
    with pytest.raises(Invalid) as refused:
        stations.create_station(name="Packing", settings={"orderTypes": value})
    assert refused.value.errors[0].member_name == "settings.orderTypes"
    assert message in refused.value.errors[0].message


def test_naming_every_type_is_the_default(catalog):
    station = stations.update_station("Bar", name="Bar", type="display", is_active=True,
                                      address=None,
                                      settings={"orderTypes": "web,delivery,takeout,dinein",
                                                "sound": "bell"})
    assert station.settings == {"sound": "bell"}
    assert OT.station_types(station.settings) == OT.ALL


def test_integrity_names_an_unknown_order_type(catalog, waiter):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    db.session.execute(Order.__table__.update().values(order_type="pickup"))
    db.session.commit()
    assert integrity.check_integrity() == [
        f"Order {order.number} has the unknown order type 'pickup'."]


def test_a_finished_order_cannot_be_marked_rush_but_a_mark_can_be_cleared(three_orders,
                                                                          manager):
    from app.services.order_status import set_order_status

    done, cancelled = three_orders[0], three_orders[1]
    rush(manager, cancelled)
    set_order_status(user=manager, order_id=done.id, status="Completed")
    set_order_status(user=manager, order_id=cancelled.id, status="Cancelled")
    with pytest.raises(Conflict) as refused:
        rush(manager, done)
    assert refused.value.errors[0].member_name == "isRush"
    db.session.expire_all()
    assert db.session.get(Order, done.id).is_rush is False
    assert rush(manager, cancelled, False).is_rush is False
