"""Ready boards: which orders stand in which column, the boards' filters, numbers leaving after
their minutes, no personal data unless a board allows first names, and board links scoped to
their board."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.core import status as S
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from app.extensions import db
from app.models import DEFAULT_BOARD, utcnow
from app.models.orders import Order
from app.services import baskets, boards, history, kiosk_links, orders, stations
from app.services.boards import BoardFields
from app.services.order_status import set_entry_status, set_order_status
from app.services.tickets import create_ticket
from tests.conftest import counted_statements, lines, make_ticket, make_user


def columns(viewer, name=DEFAULT_BOARD):
    shown = boards.get_ready_board(viewer=viewer, name=name)
    return [n.number for n in shown.preparing], [n.number for n in shown.ready]


def ticket(waiter, device, *pairs, name="Table 1", order_type="dineIn"):
    _, (order,) = create_ticket(user=waiter, device=device, name=name, lines=lines(*pairs),
                                order_type=order_type)
    return order


def make_board(admin, name, **fields):
    return boards.create_board(user=admin, name=name, fields=BoardFields(
        title=fields.pop("title", name.title()), **fields))


def ready_minutes_ago(order, minutes):
    db.session.execute(update(Order).where(Order.id == order.id)
                       .values(ready_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


# --- the columns ---------------------------------------------------------------------------

def test_preparing_until_every_live_cell_is_ready_then_ready_until_completed(
        catalog, waiter, manager):
    burger = ticket(waiter, catalog, ("BURGER", 1), ("FRIES", 1))  # Kitchen and Pass
    cola = ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    assert columns(manager) == ([burger.number, cola.number], [])

    set_order_status(user=manager, order_id=cola.id, status=S.PROCESSING)
    set_entry_status(user=manager, order_id=burger.id, station_name="Kitchen", status=S.READY)
    # The Pass has the burger New still: some live cell is before Ready.
    assert columns(manager) == ([burger.number, cola.number], [])
    set_entry_status(user=manager, order_id=burger.id, station_name="Pass", status=S.CANCELLED)
    # Every live cell Ready; the cancelled one does not count.
    assert columns(manager) == ([cola.number], [burger.number])

    set_order_status(user=manager, order_id=cola.id, status=S.READY)
    # Most recently ready first.
    assert columns(manager) == ([], [cola.number, burger.number])
    set_order_status(user=manager, order_id=burger.id, status=S.COMPLETED)
    set_order_status(user=manager, order_id=cola.id, status=S.CANCELLED)
    assert columns(manager) == ([], [])


def test_ready_at_follows_the_orders_status(catalog, waiter, manager):
    order = ticket(waiter, catalog, ("FRIES", 1))
    assert db.session.get(Order, order.id).ready_at is None
    ready = set_order_status(user=manager, order_id=order.id, status=S.READY)
    assert ready.ready_at is not None and ready.ready_at == ready.last_saved_at
    back = set_order_status(user=manager, order_id=order.id, status=S.PROCESSING)
    assert back.ready_at is None
    set_order_status(user=manager, order_id=order.id, status=S.COMPLETED)
    recalled = set_order_status(user=manager, order_id=order.id, status=S.READY)
    assert recalled.ready_at == recalled.last_saved_at  # back on the board, for its minutes


def test_void_and_deleted_orders_are_not_shown(catalog, waiter, manager):
    from app.services.tickets import update_ticket

    t, (first,) = make_ticket(waiter, catalog, ("FRIES", 2))
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t.id, name=t.name,
                               lines=lines(("FRIES", 1)))
    assert void.is_void
    gone = ticket(waiter, catalog, ("COLA", 1))
    orders.delete_order(user=manager, order_id=gone.id)
    assert columns(manager) == ([first.number], [])


def test_a_board_shows_the_orders_of_its_stations_and_types(catalog, waiter, manager, admin):
    dine_in_bar = ticket(waiter, catalog, ("COLA", 1))
    takeout_kitchen = ticket(waiter, catalog, ("FRIES", 1), order_type="takeout")
    takeout_bar = ticket(waiter, catalog, ("COLA", 1), order_type="takeout")
    delivery_both = ticket(waiter, catalog, ("COLA", 1), ("FRIES", 1), order_type="delivery")
    make_board(admin, "bar", station_names=["Bar"])
    make_board(admin, "pickup", order_types=["takeout", "delivery"])
    make_board(admin, "bar-pickup", station_names=["Bar"], order_types=["takeout"])
    assert columns(manager, "bar")[0] == [dine_in_bar.number, takeout_bar.number,
                                          delivery_both.number]
    assert columns(manager, "pickup")[0] == [takeout_kitchen.number, takeout_bar.number,
                                             delivery_both.number]
    assert columns(manager, "bar-pickup")[0] == [takeout_bar.number]
    assert len(columns(manager)[0]) == 4  # the default board: every order
    assert columns(manager, "BAR") == columns(manager, "bar")  # names in any case
    with pytest.raises(NotFound):
        columns(manager, "nowhere")


def test_a_ready_number_leaves_after_the_boards_minutes(catalog, waiter, manager, admin,
                                                        monkeypatch):
    make_board(admin, "quick", ready_minutes=5)
    old = ticket(waiter, catalog, ("FRIES", 1))
    recent = ticket(waiter, catalog, ("COLA", 1))
    for order in (old, recent):
        set_order_status(user=manager, order_id=order.id, status=S.READY)
    ready_minutes_ago(old, 6)
    ready_minutes_ago(recent, 4)
    assert columns(manager, "quick") == ([], [recent.number])
    assert columns(manager) == ([], [recent.number, old.number])  # the default: 10 minutes

    # Time alone takes a number off: the poll redraws once it has left, with no change made.
    drawn = boards.get_ready_board(viewer=manager, name="quick")
    assert boards.get_ready_board(viewer=manager, name="quick",
                                  seen_version=drawn.version) is None
    later = utcnow() + timedelta(minutes=1, seconds=2)
    monkeypatch.setattr(boards, "utcnow", lambda: later)
    redrawn = boards.get_ready_board(viewer=manager, name="quick", seen_version=drawn.version)
    assert redrawn is not None and redrawn.ready == []
    assert boards.get_ready_board(viewer=manager, name="quick",
                                  seen_version=redrawn.version) is None


def test_the_poll_answers_none_until_an_order_changes(catalog, waiter, manager):
    order = ticket(waiter, catalog, ("FRIES", 1))
    drawn = boards.get_ready_board(viewer=manager, name=DEFAULT_BOARD)
    assert drawn.version == f"{history.change_counter()}.0"
    assert boards.get_ready_board(viewer=manager, name="", seen_version=drawn.version) is None
    assert boards.get_ready_board(viewer=manager, name="", seen_version="junk") is not None
    set_order_status(user=manager, order_id=order.id, status=S.READY)
    fresh = boards.get_ready_board(viewer=manager, name="", seen_version=drawn.version)
    assert [n.number for n in fresh.ready] == [order.number]


def test_a_long_column_is_cut_and_counted(catalog, waiter, manager, monkeypatch):
    monkeypatch.setattr(boards, "MAX_NUMBERS", 3)
    made = [ticket(waiter, catalog, ("FRIES", 1), name=f"T{i}") for i in range(5)]
    shown = boards.get_ready_board(viewer=manager, name="")
    assert [n.number for n in shown.preparing] == [o.number for o in made[:3]]
    assert shown.more_preparing == 2


# --- no personal data unless allowed ---------------------------------------------------------

@pytest.fixture
def web_order(app, catalog):
    ann = make_user("ann", name="Ann Customer")
    basket = baskets.create_basket(user=ann)
    baskets.add_line(user=ann, guid=basket.guid, quantity=Decimal(1), product_code="COLA")
    return baskets.checkout_basket(
        user=ann, device=None, guid=basket.guid, currency="EUR", shipping_method="Pick-up",
        shipping_address={"firstName": "Jo Anne", "lastName": "Private", "line1": "1 Road",
                          "city": "Town", "postalCode": "1000", "country": "BE"})


def test_numbers_only_unless_the_board_shows_first_names(catalog, waiter, manager, admin,
                                                         web_order):
    anna = ticket(waiter, catalog, ("FRIES", 1), name="Anna Smith")
    table = ticket(waiter, catalog, ("FRIES", 1), name="Table 4")
    with counted_statements() as statements:
        shown = boards.get_ready_board(viewer=manager, name="")
    assert {n.first_name for n in shown.preparing} == {None}
    # Not even read: the names' columns are not in any statement.
    read = [s for s in statements if "FROM orders" in s]
    assert read and not any("ticket_name" in s or "shipping_address" in s or "user_name" in s
                            for s in read)

    boards.update_board(user=admin, name="", fields=BoardFields(
        title="Orders", show_first_name=True, ready_minutes=10))
    shown = boards.get_ready_board(viewer=manager, name="")
    names = {n.number: n.first_name for n in shown.preparing}
    assert names == {anna.number: "Anna", table.number: None, web_order.number: "Jo"}


def test_first_names(app):
    name = boards.first_name
    assert name(source="ticket", ticket_name="  Maximilian-Alexander Long", shipping_address=None
                ) == "Maximilian-Alexa"
    assert name(source="ticket", ticket_name="Bar 2", shipping_address=None) is None
    assert name(source="ticket", ticket_name=None, shipping_address=None) is None
    assert name(source="basket", ticket_name=None, shipping_address={"firstName": "Zoë"}) == "Zoë"
    assert name(source="basket", ticket_name=None, shipping_address={}) is None


# --- board links -------------------------------------------------------------------------------

def test_a_board_link_sees_its_board_and_nothing_else(catalog, waiter, admin):
    order = ticket(waiter, catalog, ("COLA", 1))
    make_board(admin, "bar", station_names=["Bar"])
    link, _ = kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name="bar",
                                            name="TV")
    assert link.is_board and not link.is_expo and link.target_name == "ready board Bar"
    actor = kiosk_links.screen_actor(link.id, board="/board/bar")
    assert actor.rights == () and actor.board_name == "bar"
    assert columns(actor, "bar") == ([order.number], [])
    # Elsewhere the link's browser is nobody: another board, the kiosk screens.
    assert kiosk_links.screen_actor(link.id, board="/board") is None
    assert kiosk_links.screen_actor(link.id) is None
    for other in ("", "nowhere"):
        with pytest.raises((Forbidden, NotFound)):
            columns(actor, other)
    with pytest.raises((Forbidden, NotFound)):  # and it reads no order, changes nothing
        orders.get_order(user=actor, order_id=order.id)
    with pytest.raises(Forbidden):
        set_order_status(user=actor, order_id=order.id, status=S.READY)


def test_revoking_a_board_link_ends_its_board(catalog, admin):
    link, secret = kiosk_links.create_kiosk_link(user=admin, station_name=None,
                                                 board_name=DEFAULT_BOARD, name="TV")
    assert kiosk_links.open_kiosk_link(secret=secret).id == link.id
    assert kiosk_links.screen_actor(link.id, board="/board").target == "/board"
    kiosk_links.revoke_kiosk_link(user=admin, link_id=link.id)
    with pytest.raises(Forbidden):
        kiosk_links.screen_actor(link.id, board="/board")
    with pytest.raises(Forbidden):
        kiosk_links.open_kiosk_link(secret=secret)
    # Where it never reached it is still nobody, not a refusal.
    assert kiosk_links.screen_actor(link.id) is None


def test_station_links_do_not_reach_boards(catalog, admin):
    link, _ = kiosk_links.create_kiosk_link(user=admin, station_name="Kitchen", name="Wall")
    assert kiosk_links.screen_actor(link.id, board="/board") is None
    assert kiosk_links.screen_actor(link.id).target == "Kitchen"


def test_the_default_boards_record_is_made_when_first_needed(catalog, admin):
    assert [b.name for b in boards.list_boards(user=admin)] == [DEFAULT_BOARD]
    assert boards.list_boards(user=admin)[0].id is None
    kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name="", name="TV")
    kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name="", name="TV 2")
    stored = boards.list_boards(user=admin)
    assert len(stored) == 1 and stored[0].id is not None and stored[0].title == "Orders"
    with pytest.raises(NotFound):
        kiosk_links.create_kiosk_link(user=admin, station_name=None, board_name="nope",
                                      name="TV")


# --- managing boards -------------------------------------------------------------------------

def test_only_admins_manage_boards(catalog, manager, admin):
    actor = kiosk_links.get_kiosk_actor(kiosk_links.create_kiosk_link(
        user=admin, station_name=None, board_name="", name="TV")[0].id)
    for who in (manager, actor, None):
        with pytest.raises(Forbidden):
            boards.list_boards(user=who)
        with pytest.raises(Forbidden):
            make_board(who, "x")
        with pytest.raises(Forbidden):
            boards.update_board(user=who, name="", fields=BoardFields(title="x"))


def test_board_fields_are_checked(catalog, admin):
    def refused(name, **fields):
        with pytest.raises(Invalid) as caught:
            make_board(admin, name, **fields)
        return {e.member_name for e in caught.value.errors}

    assert refused("Has Space") == {"name"}
    assert refused("-dash", ready_minutes=None) == {"name", "readyMinutes"}
    assert refused("default", ready_minutes=5) == {"name"}
    assert refused("ok", ready_minutes=5, title="") == {"title"}
    assert refused("ok", ready_minutes=0) == {"readyMinutes"}
    assert refused("ok", ready_minutes=241) == {"readyMinutes"}
    assert refused("ok", ready_minutes=5, station_names=["Nowhere"]) == {"stations"}
    assert refused("ok", ready_minutes=5, order_types=["pizza"]) == {"orderTypes"}
    board = make_board(admin, "ok", ready_minutes=5, order_types=["TAKEOUT"])
    assert board.order_types == "takeout"
    assert refused("ok", ready_minutes=5) == {"name"}  # taken
    everything = make_board(admin, "all-types", ready_minutes=5,
                            order_types=["dineIn", "takeout", "delivery", "web"])
    assert everything.order_types is None
    with pytest.raises(Invalid) as caught:
        boards.update_board(user=admin, name="", fields=BoardFields(
            title="Orders", station_names=["Bar"], ready_minutes=5))
    assert caught.value.errors[0].member_name == "stations"


def test_editing_a_board_is_versioned_and_redraws_its_screens(catalog, admin, manager):
    first = make_board(admin, "bar", station_names=["Bar"], ready_minutes=5).version
    counter = history.change_counter()
    saved = boards.update_board(user=admin, name="bar", version=first, fields=BoardFields(
        title="Drinks", station_names=["Bar", "Pass"], chime=False, ready_minutes=3))
    assert (saved.title, [s.name for s in saved.stations], saved.chime) == (
        "Drinks", ["Bar", "Pass"], False)
    assert history.change_counter() == counter + 1
    with pytest.raises(VersionMismatch):
        boards.update_board(user=admin, name="bar", version=first,
                            fields=BoardFields(title="Late", ready_minutes=3))
    with pytest.raises(NotFound):
        boards.update_board(user=admin, name="nope", fields=BoardFields(title="x"))


def test_a_station_a_board_names_cannot_be_deleted(catalog, admin):
    stations.create_station(name="Terrace")
    make_board(admin, "terrace", station_names=["Terrace"], ready_minutes=5)
    with pytest.raises(Conflict) as refused:
        stations.delete_station("Terrace")
    assert "ready board Terrace" in refused.value.message
    boards.update_board(user=admin, name="terrace", fields=BoardFields(
        title="Terrace", ready_minutes=5))
    stations.delete_station("Terrace")
