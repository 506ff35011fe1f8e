"""Modifiers and allergens: canonical modifiers in the ticket
difference, allergen codes refused by name, and the acknowledgement a station gives before it
bumps a card with a guest allergy."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core import status as S
from app.core.errors import Conflict, Invalid
from app.core.modifiers import Modifier
from app.extensions import db
from app.models import Product, TicketItem
from app.models.orders import Order, OrderEvent
from app.services import integrity, kiosk, products
from app.services.order_status import set_entry_status
from app.services.tickets import LineInput, create_ticket, update_ticket


def line(code="BURGER", quantity="1", *mods, allergies=(), note=None):
    return LineInput(code, Decimal(quantity), note,
                     modifiers=tuple(Modifier(m[0], Decimal(str(m[1]))) if isinstance(m, tuple)
                                     else Modifier(m) for m in mods),
                     allergies=tuple(allergies))


def open_ticket(waiter, device, *ticket_lines):
    return create_ticket(user=waiter, device=device, name="Table 9", lines=list(ticket_lines))


def update(waiter, device, ticket, *ticket_lines):
    return update_ticket(user=waiter, device=device, ticket_id=ticket.id, name="Table 9",
                         lines=list(ticket_lines))


def items_of(order):
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    return [(i.product_code, i.quantity, i.modifiers, i.allergies) for i in order.items]


def members(refused: Invalid) -> list[str]:
    return [e.member_name for e in refused.errors]


# --- modifiers in the ticket difference ----------------------------------------------------

def test_the_same_product_with_other_modifiers_is_another_line(catalog, waiter):
    _, (order,) = open_ticket(waiter, catalog, line("BURGER", "1", "Bacon"),
                              line("BURGER", "2"), line("BURGER", "1", "Bacon"))
    assert items_of(order) == [
        ("BURGER", Decimal(2), (Modifier("Bacon", Decimal(1)),), ()),
        ("BURGER", Decimal(2), (), ())]


def test_modifiers_are_kept_canonical_so_a_respelled_line_changes_nothing(catalog, waiter):
    ticket, (order,) = open_ticket(waiter, catalog, line(
        "BURGER", "1", ("  Extra   cheese ", "0.5"), "bacon", ("Extra cheese", "1.500")))
    expected = (Modifier("bacon", Decimal(1)), Modifier("Extra cheese", Decimal(2)))
    assert items_of(order)[0][2] == expected
    stored = db.session.scalars(select(TicketItem).where(TicketItem.ticket_id == ticket.id)).one()
    assert stored.modifiers == expected
    # Other order, other spacing, other spelling of the numbers: the same dish, no order.
    _, made = update(waiter, catalog, ticket, line(
        "BURGER", "1", ("Extra cheese", "2.000"), ("bacon", "1")))
    assert made == []


def test_modifier_quantities_stay_exact_on_both_databases(catalog, waiter):
    _, (order,) = open_ticket(waiter, catalog, line("FRIES", "1", ("Aioli", "0.333")))
    (modifier,) = items_of(order)[0][2]
    assert modifier.quantity == Decimal("0.333") and str(modifier.quantity) == "0.333"


def test_removing_a_modified_line_voids_exactly_that_line(catalog, waiter):
    ticket, _ = open_ticket(waiter, catalog, line("BURGER", "1", "Bacon"), line("BURGER", "1"),
                            line("BURGER", "1", "No onions", allergies=["milk"]))
    _, made = update(waiter, catalog, ticket, line("BURGER", "1"),
                     line("BURGER", "1", "No onions", allergies=["milk"]))
    (void,) = made
    assert void.is_void
    assert items_of(void) == [("BURGER", Decimal(-1), (Modifier("Bacon", Decimal(1)),), ())]
    assert integrity.check_integrity() == []


def test_changing_a_lines_modifiers_voids_the_old_dish_and_orders_the_new(catalog, waiter):
    ticket, _ = open_ticket(waiter, catalog, line("BURGER", "2", "Bacon"))
    _, (added, void) = update(waiter, catalog, ticket, line("BURGER", "2", ("Bacon", 2)))
    assert items_of(added) == [("BURGER", Decimal(2), (Modifier("Bacon", Decimal(2)),), ())]
    assert items_of(void) == [("BURGER", Decimal(-2), (Modifier("Bacon", Decimal(1)),), ())]
    assert integrity.check_integrity() == []


def test_a_guest_allergy_added_to_a_line_reaches_the_kitchen(catalog, waiter):
    """Allergies are part of the line: adding one voids the dish as it was and orders it
    again, marked, so the station learns of it."""
    ticket, _ = open_ticket(waiter, catalog, line("FRIES", "1"))
    _, (added, void) = update(waiter, catalog, ticket,
                              line("FRIES", "1", allergies=["Peanuts", "milk", "milk"]))
    assert items_of(added) == [("FRIES", Decimal(1), (), ("peanuts", "milk"))]
    assert void.is_void and items_of(void)[0][3] == ()


# --- validation -----------------------------------------------------------------------------

def test_unknown_allergies_and_bad_modifiers_are_refused_by_member(catalog, waiter):
    with pytest.raises(Invalid) as refused:
        open_ticket(waiter, catalog, line("BURGER", "1", ("  ", 1), ("Bacon", "0")),
                    line("FRIES", "1", allergies=["milk", "shellfish"]))
    assert members(refused.value) == ["items[0].modifiers[0].name",
                                      "items[0].modifiers[1].quantity",
                                      "items[1].allergies[1]"]
    assert "shellfish" in refused.value.errors[2].message
    assert db.session.scalar(select(Order.id)) is None


def test_products_keep_their_allergens_and_refuse_unknown_ones(catalog):
    saved = products.update_product("BURGER", code="BURGER", name="Burger",
                                    price=Decimal("12.50"), station_names=["Kitchen", "Pass"],
                                    allergens=["Milk", " gluten", "gluten"])
    assert saved.allergens == ("gluten", "milk")
    with pytest.raises(Invalid) as refused:
        products.create_product(code="PAD", name="Pad thai", price=Decimal(9),
                                allergens=["peanuts", "shrimp"])
    assert members(refused.value) == ["allergens[1]"]
    assert db.session.scalar(select(Product).where(Product.code == "PAD")) is None


def test_order_items_carry_the_guest_allergies_and_the_products_allergens(catalog, waiter):
    products.update_product("BURGER", code="BURGER", name="Burger", price=Decimal("12.50"),
                            station_names=["Kitchen"], allergens=["gluten", "milk"])
    _, (order,) = open_ticket(waiter, catalog, line("BURGER", "1", allergies=["milk", "eggs"]))
    db.session.expire_all()
    item = db.session.get(Order, order.id).items[0]
    assert (item.allergies, item.allergens) == (("eggs", "milk"), ("gluten", "milk"))


# --- acknowledgement before bump ----------------------------------------------------------

def kitchen_card(viewer, order):
    found = kiosk.get_station_board(viewer=viewer, station_name="Kitchen")
    return next(c for c in found.cards if c.order.id == order.id)


def test_an_allergy_card_must_be_acknowledged_before_it_is_bumped(catalog, waiter, manager):
    _, (order,) = open_ticket(waiter, catalog, line("FRIES", "1", allergies=["sesame"]),
                              line("FRIES", "2"))
    card = kitchen_card(manager, order)
    assert card.allergies == ("sesame",) and card.needs_acknowledgement
    version = db.session.get(Order, order.id).version
    with pytest.raises(Conflict, match="Sesame"):
        kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    # Moving it on short of Completed is allowed; a tap that would complete it is not.
    set_entry_status(user=manager, order_id=order.id, station_name="Kitchen", status=S.READY)
    with pytest.raises(Conflict, match="acknowledge"):
        kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=order.id,
                            seen=S.READY)
    with pytest.raises(Conflict, match="acknowledge"):
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=order.id,
                           item_id=1, seen=S.READY)
    db.session.expire_all()
    stored = db.session.get(Order, order.id)
    assert stored.version == version + 1  # the Ready above, nothing from the refusals
    assert {c.status for c in stored.cells} == {S.READY}
    assert [e.action for e in stored.history] == ["created", "dispatched", "status"]

    kiosk.acknowledge_allergies(viewer=manager, station_name="Kitchen", order_id=order.id)
    (event,) = db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "allergies acknowledged")).all()
    assert (event.user_name, event.level, event.target) == ("manager", "station", "Kitchen")
    assert "Sesame" in event.detail
    card = kitchen_card(manager, order)
    assert card.allergies_acknowledged and not card.needs_acknowledgement
    # Once is enough: again changes nothing.
    kiosk.acknowledge_allergies(viewer=manager, station_name="Kitchen", order_id=order.id)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    db.session.expire_all()
    assert {c.status for c in db.session.get(Order, order.id).cells} == {S.COMPLETED}
    assert integrity.check_integrity() == []


def test_cards_without_guest_allergies_bump_at_once_and_have_nothing_to_acknowledge(
        catalog, waiter, manager):
    products.update_product("FRIES", code="FRIES", name="Fries", price=Decimal(4),
                            station_names=["Kitchen"], allergens=["celery"])
    _, (order,) = open_ticket(waiter, catalog, line("FRIES", "1", "Aioli"))
    assert not kitchen_card(manager, order).needs_acknowledgement
    with pytest.raises(Conflict, match="no guest allergy"):
        kiosk.acknowledge_allergies(viewer=manager, station_name="Kitchen", order_id=order.id)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)


def test_each_station_acknowledges_for_itself(catalog, waiter, manager):
    _, (order,) = open_ticket(waiter, catalog, line("BURGER", "1", allergies=["milk"]))
    kiosk.acknowledge_allergies(viewer=manager, station_name="Kitchen", order_id=order.id)
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=order.id)
    with pytest.raises(Conflict):
        kiosk.bump_entry(viewer=manager, station_name="Pass", order_id=order.id)
