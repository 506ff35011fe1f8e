"""Tickets (contract 3.1): every create and update generates orders from the difference."""
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.api.serializers import order_json
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models import Counter, Device, Station, Ticket, TicketItem
from app.models.orders import Order, OrderEvent
from app.services import orders, processing, products, stations
from app.services.tickets import LineInput, close_ticket, create_ticket, update_ticket
from tests.conftest import lines, make_ticket, make_user


def _json(order) -> dict:
    db.session.expire_all()
    return order_json(db.session.get(Order, order.id))


def _items(body) -> list[tuple]:
    return [(i["productCode"], float(i["quantity"]), float(i["unitPrice"]), float(i["total"]),
             [e["name"] for e in i["endpoints"]]) for i in body["items"]]


def _update(user, device, ticket, *pairs, name=None, version=None):
    return update_ticket(user=user, device=device, ticket_id=ticket.id,
                         name=name or ticket.name, lines=lines(*pairs), version=version)


def _counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Ticket)),
            db.session.scalar(select(func.count()).select_from(TicketItem)),
            db.session.scalar(select(func.count()).select_from(Order)))


def _set_active(name: str, active: bool) -> None:
    station = stations.get_station(name)
    stations.update_station(name, name=name, type=station.type, is_active=active,
                            address=station.address, settings=station.settings)


# --- create ------------------------------------------------------------------------------------

def test_an_order_id_is_a_uuid_that_starts_with_its_time(catalog, waiter):
    # Time first, so new orders' rows land on the last pages of their indexes (app.models).
    before = datetime.now(UTC)
    _, (first,) = make_ticket(waiter, catalog, ("COLA", 1))
    _, (second,) = make_ticket(waiter, catalog, ("COLA", 1))
    after = datetime.now(UTC)
    ids = [uuid.UUID(order.id) for order in (first, second)]
    assert [(i.version, i.variant) for i in ids] == [(7, uuid.RFC_4122)] * 2
    assert [str(i) for i in ids] == [first.id, second.id]  # the canonical lower-case form
    millis = [i.int >> 80 for i in ids]
    assert int(before.timestamp() * 1000) <= millis[0] <= millis[1] <= after.timestamp() * 1000
    assert ids[0] != ids[1]


def test_create_generates_one_order_with_the_items(catalog, waiter):
    ticket, made = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1, "no ice"),
                               name="Table 4")
    assert len(made) == 1
    body = _json(made[0])
    assert body["source"] == "ticket" and body["isVoid"] is False
    assert body["ticket"] == {"id": ticket.id, "name": "Table 4"}
    assert body["device"] == {"name": "POS-1"}
    assert body["user"] == {"userName": "waiter", "name": "Wendy"}
    assert body["currency"] == "EUR"
    assert _items(body) == [("BURGER", 2, 12.5, 25, ["Kitchen", "Pass"]),
                            ("COLA", 1, 3.2, 3.2, ["Bar"])]
    assert [i["id"] for i in body["items"]] == [1, 2]
    assert [i["note"] for i in body["items"]] == [None, "no ice"]
    assert [i["course"] for i in body["items"]] == [2, None]  # the product's default course
    assert body["subTotal"] == Decimal("28.20")
    assert body["orderTotal"] == Decimal("28.20")
    assert body["discountTotal"] == 0 and body["shippingTotal"] == 0
    assert {e["name"]: e["itemIds"] for e in body["endpoints"]} == {
        "Kitchen": [1], "Bar": [2], "Pass": [1]}
    assert body["status"] == "New"


def test_a_line_course_overrides_the_products(catalog, waiter):
    _, (order,) = create_ticket(user=waiter, device=catalog, name="T", lines=[
        LineInput("BURGER", Decimal(1), course=1), LineInput("FRIES", Decimal(1), course=0)])
    assert [i["course"] for i in _json(order)["items"]] == [1, 0]


def test_product_without_station_goes_to_the_devices_default(catalog, waiter):
    _, (order,) = make_ticket(waiter, catalog, ("BREAD", 3))
    body = _json(order)
    assert _items(body) == [("BREAD", 3, 3, 9, ["Pass"])]
    assert [e["name"] for e in body["endpoints"]] == ["Pass"]


def test_product_without_station_and_no_device_default_is_invalid(catalog, waiter):
    bare = Device(name="POS-2")
    db.session.add(bare)
    db.session.commit()
    for device in (bare, None):
        before = _counts()
        with pytest.raises(Invalid) as caught:
            make_ticket(waiter, device, ("COLA", 1), ("BREAD", 1))
        assert [e.member_name for e in caught.value.errors] == ["items[1].productCode"]
        db.session.rollback()
        assert _counts() == before
    # Without a device, routed products still work.
    _, (order,) = make_ticket(waiter, None, ("COLA", 1))
    assert _json(order)["device"] is None


def test_order_numbers_are_consecutive_and_unique(catalog, waiter):
    numbers = []
    for i in range(4):
        _, made = make_ticket(waiter, catalog, ("FRIES", 1), name=f"Table {i}")
        numbers += [o.number for o in made]
    ticket, made = make_ticket(waiter, catalog, ("FRIES", 2), name="Mixed")
    numbers += [o.number for o in made]
    _, made = _update(waiter, catalog, ticket, ("FRIES", 1), ("COLA", 1))
    numbers += [o.number for o in made]
    assert numbers == list(range(1, 8))
    db.session.expire_all()
    stored = db.session.scalars(select(Order.number).order_by(Order.number)).all()
    assert stored == numbers


# --- updates: what is added -------------------------------------------------------------------

def test_adding_an_item_orders_only_that_item(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1))
    ticket, made = _update(waiter, catalog, ticket, ("BURGER", 1), ("COLA", 2))
    assert len(made) == 1
    body = _json(made[0])
    assert body["isVoid"] is False
    assert _items(body) == [("COLA", 2, 3.2, 6.4, ["Bar"])]
    assert [e["name"] for e in body["endpoints"]] == ["Bar"]
    assert body["orderTotal"] == Decimal("6.40")
    assert ticket.version == 2


def test_increasing_a_quantity_orders_the_difference(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
    _, made = _update(waiter, catalog, ticket, ("BURGER", 3), ("COLA", 1))
    assert len(made) == 1
    assert _items(_json(made[0])) == [("BURGER", 2, 12.5, 25, ["Kitchen", "Pass"])]


def test_same_product_with_another_note_is_another_item(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1))
    _, made = _update(waiter, catalog, ticket, ("BURGER", 1), ("BURGER", 1, "no onion"))
    assert len(made) == 1
    body = _json(made[0])
    assert [(i["productCode"], i["quantity"], i["note"]) for i in body["items"]] == [
        ("BURGER", 1, "no onion")]


def test_fractional_quantities_are_exact(catalog, waiter):
    ticket, (first,) = make_ticket(waiter, catalog, ("FRIES", "0.5"))
    _, (second,) = _update(waiter, catalog, ticket, ("FRIES", "1.125"))
    assert _json(first)["items"][0]["total"] == 2
    body = _json(second)
    assert body["items"][0]["quantity"] == 0.625
    assert body["items"][0]["total"] == 2.5


# --- updates: what is taken away ---------------------------------------------------------------

def test_removing_an_item_makes_a_void_order_to_the_same_stations(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1))
    _, made = _update(waiter, catalog, ticket, ("COLA", 1))
    assert len(made) == 1
    body = _json(made[0])
    assert body["isVoid"] is True
    assert _items(body) == [("BURGER", -2, 12.5, -25, ["Kitchen", "Pass"])]
    assert body["subTotal"] == -25 and body["orderTotal"] == -25
    assert body["ticket"]["id"] == ticket.id


def test_decreasing_a_quantity_voids_the_difference(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 3))
    _, made = _update(waiter, catalog, ticket, ("BURGER", 1), ("COLA", 1))
    assert len(made) == 1
    body = _json(made[0])
    assert body["isVoid"] is True
    assert _items(body) == [("COLA", -2, 3.2, -6.4, ["Bar"])]
    assert body["orderTotal"] == Decimal("-6.40")


def test_void_goes_where_the_original_went_even_after_routing_and_price_change(catalog,
                                                                                waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 2), ("BREAD", 1))
    products.update_product("BURGER", code="BURGER", name="Burger", price=Decimal(20),
                            station_names=["Bar"], course=2)
    products.update_product("BREAD", code="BREAD", name="Bread", price=Decimal("3.00"),
                            station_names=["Kitchen"])
    _, made = _update(waiter, catalog, ticket, ("BURGER", 1))
    assert len(made) == 1
    body = _json(made[0])
    assert body["isVoid"] is True
    assert _items(body) == [("BURGER", -1, 12.5, -12.5, ["Kitchen", "Pass"]),
                            ("BREAD", -1, 3, -3, ["Pass"])]
    assert sorted(e["name"] for e in body["endpoints"]) == ["Kitchen", "Pass"]
    # What is added now follows the new routing and price.
    _, (added,) = _update(waiter, catalog, ticket, ("BURGER", 2))
    assert _items(_json(added)) == [("BURGER", 1, 20, 20, ["Bar"])]


def test_mixed_increase_and_decrease_makes_one_order_and_one_void(catalog, waiter):
    ticket, (first,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 3), ("FRIES", 1))
    _, made = _update(waiter, catalog, ticket, ("BURGER", 2), ("COLA", 1), ("BREAD", 1))
    assert len(made) == 2
    plus, minus = (_json(o) for o in made)
    assert (plus["isVoid"], minus["isVoid"]) == (False, True)
    assert [plus["number"], minus["number"]] == [first.number + 1, first.number + 2]
    assert _items(plus) == [("BURGER", 1, 12.5, 12.5, ["Kitchen", "Pass"]),
                            ("BREAD", 1, 3, 3, ["Pass"])]
    assert _items(minus) == [("COLA", -2, 3.2, -6.4, ["Bar"]),
                             ("FRIES", -1, 4, -4, ["Kitchen"])]
    assert plus["orderTotal"] == Decimal("15.50")
    assert minus["orderTotal"] == Decimal("-10.40")


# --- updates that generate nothing -------------------------------------------------------------

def test_an_update_that_changes_nothing_generates_nothing(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 2, "ice"))
    before = (_counts(), ticket.version, ticket.last_saved_at)
    ticket, made = _update(waiter, catalog, ticket, ("BURGER", 1), ("COLA", 2, "ice"),
                           version=1)
    assert made == []
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (_counts(), ticket.version, ticket.last_saved_at) == before


def test_a_rename_only_generates_no_order(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1), name="Table 1")
    orders_before = _counts()[2]
    ticket, made = _update(waiter, catalog, ticket, ("BURGER", 1), name="Table 2")
    assert made == []
    assert _counts()[2] == orders_before
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert stored.name == "Table 2" and stored.version == 2


def test_splitting_a_line_in_two_generates_no_order(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("FRIES", 2), ("COLA", 1))
    _, made = _update(waiter, catalog, ticket, ("COLA", 1), ("FRIES", 1), ("FRIES", 1))
    assert made == []


# --- refused updates ---------------------------------------------------------------------------

def test_a_closed_ticket_cannot_be_updated(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1))
    close_ticket(user=waiter, ticket_id=ticket.id)
    before = _counts()
    with pytest.raises(Conflict):
        _update(waiter, catalog, ticket, ("BURGER", 2))
    db.session.rollback()
    assert _counts() == before
    with pytest.raises(Conflict):
        close_ticket(user=waiter, ticket_id=ticket.id)


def test_a_stale_version_is_refused_and_writes_nothing(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 1))
    _update(waiter, catalog, ticket, ("BURGER", 2), version=1)
    before = _counts()
    with pytest.raises(VersionMismatch) as caught:
        _update(waiter, catalog, ticket, ("BURGER", 3), name="Other", version=1)
    assert caught.value.current_version == 2
    db.session.rollback()
    assert _counts() == before
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert (stored.name, stored.version, [i.quantity for i in stored.items]) == (
        "Table 1", 2, [2])


def test_unknown_ticket_is_not_found(catalog, waiter):
    with pytest.raises(NotFound):
        update_ticket(user=waiter, device=catalog, ticket_id="nope", name="x", lines=[])


def test_rights_are_checked(catalog):
    creator = make_user("creator", ["ticketCreate"])
    ticket, _ = make_ticket(creator, catalog, ("FRIES", 1))
    with pytest.raises(Forbidden):
        _update(creator, catalog, ticket, ("FRIES", 2))
    with pytest.raises(Forbidden):
        make_ticket(make_user("updater", ["ticketUpdate"]), catalog, ("FRIES", 1))


# --- invalid input writes nothing --------------------------------------------------------------

def _next_number(waiter, device) -> int:
    """Makes an order, so call it last: the number the next order got."""
    _, (order,) = make_ticket(waiter, device, ("FRIES", 1), name="Probe")
    return order.number


BAD_LINES = [
    ([LineInput("NOPE", Decimal(1))], "items[0].productCode"),
    ([LineInput("FRIES", Decimal(1)), LineInput("NOPE", Decimal(2))], "items[1].productCode"),
    ([LineInput("FRIES", Decimal(0))], "items[0].quantity"),
    ([LineInput("FRIES", Decimal(-1))], "items[0].quantity"),
    ([LineInput("FRIES", Decimal("1.2345"))], "items[0].quantity"),
    ([LineInput("FRIES", Decimal("1e30"))], "items[0].quantity"),
    ([LineInput("FRIES", Decimal("NaN"))], "items[0].quantity"),
    ([LineInput("FRIES", Decimal(1)), LineInput("COLA", Decimal(1), course=100)],
     "items[1].course"),
    ([LineInput("FRIES", Decimal(1), course=-1)], "items[0].course"),
    ([LineInput("", Decimal(1))], "items[0].productCode"),
]


@pytest.mark.parametrize("bad, member", BAD_LINES)
def test_invalid_create_names_the_member_and_writes_nothing(catalog, waiter, bad, member):
    make_ticket(waiter, catalog, ("COLA", 1))
    before = _counts()
    with pytest.raises(Invalid) as caught:
        create_ticket(user=waiter, device=catalog, name="Bad", lines=bad)
    assert [e.member_name for e in caught.value.errors] == [member]
    db.session.rollback()
    assert _counts() == before
    assert _next_number(waiter, catalog) == 2


@pytest.mark.parametrize("bad, member", BAD_LINES)
def test_invalid_update_names_the_member_and_writes_nothing(catalog, waiter, bad, member):
    ticket, _ = make_ticket(waiter, catalog, ("COLA", 1), ("FRIES", 2))
    before = _counts()
    with pytest.raises(Invalid) as caught:
        update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Bad",
                      lines=bad + [LineInput("BURGER", Decimal(1))])
    assert [e.member_name for e in caught.value.errors] == [member]
    db.session.rollback()
    assert _counts() == before
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert (stored.name, stored.version) == ("Table 1", 1)
    assert _next_number(waiter, catalog) == 2


def test_every_problem_is_named_at_once(catalog, waiter):
    with pytest.raises(Invalid) as caught:
        create_ticket(user=waiter, device=catalog, name=" ", lines=[
            LineInput("FRIES", Decimal(0)), LineInput("COLA", Decimal(1), course=120)])
    assert [e.member_name for e in caught.value.errors] == [
        "name", "items[0].quantity", "items[1].course"]


def test_unknown_products_are_all_named(catalog, waiter):
    with pytest.raises(Invalid) as caught:
        make_ticket(waiter, catalog, ("NOPE", 1), ("COLA", 1), ("ALSO", 1), ("NOPE", 1, "x"))
    assert [e.member_name for e in caught.value.errors] == [
        "items[0].productCode", "items[2].productCode", "items[3].productCode"]
    assert _counts() == (0, 0, 0)
    assert _next_number(waiter, catalog) == 1


# --- processing --------------------------------------------------------------------------------

def test_auto_process_dispatches_new_orders(catalog, waiter):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
    body = _json(order)
    assert body["isProcessed"] is True
    assert body["isProcessable"] is False
    assert all(e["processedDateUtc"] is not None for e in body["endpoints"])
    dispatched = db.session.scalars(select(OrderEvent.target).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "dispatched")).all()
    assert sorted(dispatched) == ["Bar", "Kitchen", "Pass"]


def test_without_auto_process_orders_wait_until_processed_once(app, catalog, waiter, manager):
    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
    body = _json(order)
    assert body["isProcessed"] is False
    assert body["isProcessable"] is True
    assert all(e["processedDateUtc"] is None for e in body["endpoints"])
    version = body["_v"]

    changed = processing.process_orders(user=manager, order_ids=[order.id])
    assert [o.id for o in changed] == [order.id]
    body = _json(order)
    assert body["isProcessed"] is True and body["isProcessable"] is False
    assert all(e["processedDateUtc"] is not None for e in body["endpoints"])
    assert body["_v"] == version + 1
    assert body["status"] == "New"  # processing never changes a cell

    assert processing.process_orders(user=manager, order_ids=[order.id]) == []
    after = _json(order)
    assert after["_v"] == body["_v"]
    assert [e["processedDateUtc"] for e in after["endpoints"]] == [
        e["processedDateUtc"] for e in body["endpoints"]]
    dispatched = db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "dispatched"))
    assert dispatched == 3


def test_processing_needs_the_right_and_known_ids(app, catalog, waiter, manager):
    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
    with pytest.raises(Forbidden):
        processing.process_orders(user=waiter, order_ids=[order.id])
    with pytest.raises(Invalid) as caught:
        processing.process_orders(user=manager, order_ids=[order.id, "missing"])
    assert [e.member_name for e in caught.value.errors] == ["orderIds[1]"]
    db.session.rollback()
    assert _json(order)["isProcessed"] is False  # nothing processed


def test_a_cancelled_order_is_not_processed(app, catalog, waiter, manager):
    from app.services.order_status import set_order_status

    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
    set_order_status(user=manager, order_id=order.id, status="Cancelled")
    assert _json(order)["isProcessable"] is False
    assert processing.process_orders(user=manager, order_ids=[order.id]) == []
    assert _json(order)["endpoints"][0]["processedDateUtc"] is None


def test_an_inactive_station_s_items_wait_and_go_when_it_is_switched_on(catalog, waiter, manager):
    _set_active("Bar", False)
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1), ("COLA", 1))
    body = _json(order)
    entries = {e["name"]: e for e in body["endpoints"]}
    assert entries["Kitchen"]["processedDateUtc"] is not None
    assert entries["Bar"]["processedDateUtc"] is None
    assert entries["Bar"]["isActive"] is False
    assert body["isProcessed"] is False
    assert body["isProcessable"] is False  # nothing undispatched on an active station
    assert processing.process_orders(user=manager, order_ids=[order.id]) == []

    # Switched back on, the station is sent what waited for it by itself.
    _set_active("Bar", True)
    body = _json(order)
    assert {e["name"]: e["processedDateUtc"] is not None for e in body["endpoints"]} == {
        "Kitchen": True, "Bar": True}
    assert body["isProcessed"] is True and body["isProcessable"] is False
    assert processing.process_orders(user=manager, order_ids=[order.id]) == []


def test_deleted_orders_are_not_processed(app, catalog, waiter, manager):
    app.config["AUTO_PROCESS"] = False
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 1))
    orders.delete_order(user=manager, order_id=order.id)
    with pytest.raises(Invalid):
        processing.process_orders(user=manager, order_ids=[order.id])


def test_void_orders_are_processed_like_others(catalog, waiter):
    ticket, _ = make_ticket(waiter, catalog, ("COLA", 2))
    _, (void,) = _update(waiter, catalog, ticket, ("COLA", 1))
    body = _json(void)
    assert body["isVoid"] is True and body["isProcessed"] is True


def test_station_ids_do_not_leak_between_devices(catalog, waiter):
    """The default station is the creating device's, not the ticket's first device's."""
    kitchen_pos = Device(name="POS-K", default_station_id=db.session.scalar(
        select(Station.id).where(Station.name == "Kitchen")))
    db.session.add(kitchen_pos)
    db.session.commit()
    ticket, _ = make_ticket(waiter, catalog, ("BREAD", 1))
    _, (order,) = _update(waiter, kitchen_pos, ticket, ("BREAD", 2))
    body = _json(order)
    assert _items(body) == [("BREAD", 1, 3, 3, ["Kitchen"])]
    assert body["device"] == {"name": "POS-K"}


def test_amounts_too_large_for_the_money_columns_are_refused(app, catalog, waiter):
    from app.core.errors import Invalid
    from app.services import products

    products.create_product(code="GOLD", name="Gold bar", price=Decimal("90000000000"),
                            station_names=["Bar"])
    with pytest.raises(Invalid) as refused:
        make_ticket(waiter, catalog, ("GOLD", 5000))
    assert refused.value.errors[0].member_name == "items"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_an_update_writes_what_the_session_held_in_its_own_transaction(catalog, waiter):
    """The update's COMMIT goes with its last statements (on PostgreSQL, in their pipeline): what
    the session held unwritten must be written before it, not left for a later flush."""
    ticket, _ = make_ticket(waiter, catalog, ("COLA", 1))
    db.session.add(Counter(name="test.held", value=3))
    update_ticket(user=waiter, device=None, ticket_id=ticket.id, name=ticket.name,
                  lines=lines(("COLA", 2)))
    with db.engine.connect() as other:  # committed, as a fresh connection sees
        assert other.scalar(select(Counter.value).where(Counter.name == "test.held")) == 3
        if other.dialect.name == "postgresql":  # by the transaction that wrote the new order
            written_by = other.execute(text(
                "SELECT (SELECT xmin::text FROM counters WHERE name = 'test.held'),"
                " (SELECT xmin::text FROM orders WHERE ticket_id = :ticket"
                "  ORDER BY number DESC LIMIT 1)"), {"ticket": ticket.id}).one()
            assert written_by[0] == written_by[1]
    assert not db.session.new and not db.session.dirty


def test_a_station_switched_on_leaves_orders_processed_by_hand_to_the_person(app, catalog,
                                                                             waiter, manager):
    # AUTO_PROCESS off: an order nobody processed waits for a person, whatever station is
    # switched on; one processed while the Bar was off is sent to the Bar when it comes on.
    app.config["AUTO_PROCESS"] = False
    _, (unprocessed,) = make_ticket(waiter, catalog, ("COLA", 1))
    _set_active("Bar", False)
    _, (partly,) = make_ticket(waiter, catalog, ("FRIES", 1), ("COLA", 1))
    processing.process_orders(user=manager, order_ids=[partly.id])
    _set_active("Bar", True)
    assert _json(unprocessed)["isProcessed"] is False
    body = _json(partly)
    assert body["isProcessed"] is True
    assert {e["name"] for e in body["endpoints"] if e["processedDateUtc"]} == {"Kitchen", "Bar"}
