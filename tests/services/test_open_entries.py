"""A station entry's `is_open` (what the kiosk board reads) always equals what its cells say:
through every way a status changes, a refused change, and the migration that added it."""
import uuid
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.core import status as S
from app.core.errors import Conflict
from app.extensions import db
from app.services import kiosk, order_status
from app.services.order_status import (
    set_cell_status,
    set_entry_status,
    set_item_status,
    set_order_status,
    set_statuses,
)
from app.services.tickets import update_ticket
from tests.conftest import POSTGRES, bearer, lines, make_app, make_ticket
from tests.web.helpers import sign_in

N, P, R, C, X = S.NEW, S.PROCESSING, S.READY, S.COMPLETED, S.CANCELLED

ENTRIES = """
SELECT orders.number, stations.name, order_entries.is_open,
       EXISTS (SELECT 1 FROM order_cells WHERE order_cells.entry_id = order_entries.id
               AND order_cells.status IN ('New', 'Processing', 'Ready'))
FROM order_entries JOIN orders ON orders.id = order_entries.order_id
JOIN stations ON stations.id = order_entries.station_id
"""


def open_entries() -> dict[tuple[int, str], bool]:
    """{(order number, station): is_open} as stored, after checking every stored flag against
    the entry's cells."""
    db.session.commit()  # a fresh read: the services wrote in their own transactions
    rows = db.session.execute(text(ENTRIES)).all()
    db.session.commit()  # and no read left open to block a migration's ALTER TABLE
    stored = {(number, station): bool(flag) for number, station, flag, _ in rows}
    assert stored == {(number, station): bool(cells) for number, station, _, cells in rows}
    return stored


@pytest.fixture
def shift(catalog, waiter):
    """Order 1: 2 burgers + fries (Kitchen, Pass); 2: cola (Bar); 3: fries (Kitchen)."""
    t1, (o1,) = make_ticket(waiter, catalog, ("BURGER", 2), ("FRIES", 1), name="Table 1")
    _, (o2,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    _, (o3,) = make_ticket(waiter, catalog, ("FRIES", 3), name="Table 3")
    return t1, o1, o2, o3


def test_new_entries_are_open_voids_included(shift, catalog, waiter):
    t1, o1, o2, o3 = shift
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t1.id, name="Table 1",
                               lines=lines(("BURGER", 1), ("FRIES", 1)))
    assert open_entries() == {
        (o1.number, "Kitchen"): True, (o1.number, "Pass"): True, (o2.number, "Bar"): True,
        (o3.number, "Kitchen"): True, (void.number, "Kitchen"): True,
        (void.number, "Pass"): True}


def test_kiosk_taps_close_and_reopen_the_entry(shift, manager):
    _, o1, _, o3 = shift
    for stage in (P, R, C):  # the burger, item by item, to Completed: the fries still wait
        kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o1.id, item_id=1)
        assert open_entries()[(o1.number, "Kitchen")] is True
    kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)  # fries: P
    assert open_entries()[(o1.number, "Kitchen")] is True
    kiosk.bump_entry(viewer=manager, station_name="Kitchen", order_id=o1.id)
    flags = open_entries()
    assert flags[(o1.number, "Kitchen")] is False and flags[(o1.number, "Pass")] is True
    kiosk.advance_cell(viewer=manager, station_name="Kitchen", order_id=o3.id, item_id=1,
                       seen=N)
    for _ in range(2):
        kiosk.advance_entry(viewer=manager, station_name="Kitchen", order_id=o3.id)
    assert open_entries()[(o3.number, "Kitchen")] is False  # Completed by taps alone
    assert kiosk.recall_entry(viewer=manager, station_name="Kitchen").id == o3.id
    assert open_entries()[(o3.number, "Kitchen")] is True  # Ready again: back on screen
    assert [c.order.id for c in kiosk.get_station_board(
        viewer=manager, station_name="Kitchen").cards] == [o3.id]


def test_acknowledging_a_void_closes_its_entry_at_that_station_only(shift, catalog, waiter,
                                                                    manager):
    t1 = shift[0]
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=t1.id, name="Table 1",
                               lines=lines(("BURGER", 1), ("FRIES", 1)))
    kiosk.acknowledge_void(viewer=manager, station_name="Kitchen", order_id=void.id)
    flags = open_entries()
    assert flags[(void.number, "Kitchen")] is False and flags[(void.number, "Pass")] is True


def test_cancelling_closes_an_entry_once_nothing_is_left_to_do(shift, manager):
    _, o1, o2, o3 = shift
    set_item_status(user=manager, order_id=o1.id, item_id=2, status=X)  # the fries
    flags = open_entries()
    assert flags[(o1.number, "Kitchen")] is True  # the burger is still to make
    set_cell_status(user=manager, order_id=o1.id, item_id=1, station_name="Kitchen", status=X)
    flags = open_entries()
    assert flags[(o1.number, "Kitchen")] is False and flags[(o1.number, "Pass")] is True
    set_order_status(user=manager, order_id=o3.id, status=X)
    assert open_entries()[(o3.number, "Kitchen")] is False
    set_entry_status(user=manager, order_id=o2.id, station_name="Bar", status=R)
    assert open_entries()[(o2.number, "Bar")] is True


def test_whole_order_changes_and_the_bulk_action_move_every_entry(shift, manager):
    _, o1, o2, o3 = shift
    set_order_status(user=manager, order_id=o1.id, status=C)
    assert not any(v for (n, _), v in open_entries().items() if n == o1.number)
    set_order_status(user=manager, order_id=o1.id, status=R)  # back one stage
    assert all(v for (n, _), v in open_entries().items() if n == o1.number)
    set_statuses(user=manager, order_ids=[o1.id, o2.id, o3.id], status=C)
    assert not any(open_entries().values())


def test_a_refused_change_leaves_the_flags_as_they_were(shift, manager):
    _, o1, _, _ = shift
    set_entry_status(user=manager, order_id=o1.id, station_name="Kitchen", status=C)
    before = open_entries()
    with pytest.raises(Conflict):  # back two stages
        set_order_status(user=manager, order_id=o1.id, status=P)
    assert open_entries() == before


def test_the_status_routes_of_the_api_and_the_dashboard(client, shift, manager):
    _, o1, o2, o3 = shift
    headers = bearer(manager)
    base = f"/api/orders/{o1.id}"
    assert client.post(f"{base}/endpoints/Kitchen/status", json={"status": "Completed"},
                       headers=headers).status_code == 200
    assert open_entries()[(o1.number, "Kitchen")] is False
    assert client.post(f"{base}/items/1/status", json={"status": "Completed"},
                       headers=headers).status_code == 200
    assert open_entries()[(o1.number, "Pass")] is False
    assert client.post(f"{base}/status", json={"status": "Ready"},
                       headers=headers).status_code == 200
    assert open_entries()[(o1.number, "Kitchen")] is True
    assert client.post(f"/api/orders/{o2.id}/status", json={"status": "Cancelled"},
                       headers=headers).status_code == 200
    assert open_entries()[(o2.number, "Bar")] is False
    sign_in(client, manager)
    assert client.post(f"/orders/{o3.id}/status", data={"status": "Completed"}).status_code \
        in (200, 303)
    assert open_entries()[(o3.number, "Kitchen")] is False


def test_seeded_orders_carry_the_flag_their_cells_give(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--orders", "300"])
    assert result.exit_code == 0, result.output
    flags = open_entries()  # checks every entry, the bulk ones included
    assert len(flags) > 300 and True in flags.values() and False in flags.values()


def test_the_open_stages_are_the_boards(app):
    assert kiosk.OPEN == order_status.OPEN == (N, P, R)


# --- the migration ----------------------------------------------------------------------------

@pytest.fixture
def fresh_url(migrated_app, tmp_path):
    """An empty database of the kind under test, dropped afterwards."""
    if migrated_app.config["DB_KIND"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'open-entries.db'}"
        return
    import psycopg

    name = f"orders_open_entries_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES.replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_computes_the_flag_for_existing_entries_and_goes_back(fresh_url):
    from app.models import Device, Station
    from app.services import products, stations
    from tests.conftest import make_user

    app = make_app(fresh_url, AUTO_PROCESS=True)
    with app.app_context():
        upgrade()
        for name in ("Kitchen", "Pass"):
            stations.create_station(name=name)
        products.create_product(code="BURGER", name="Burger", price=Decimal(1),
                                station_names=["Kitchen", "Pass"])
        products.create_product(code="FRIES", name="Fries", price=Decimal(1),
                                station_names=["Kitchen"])
        device = Device(name="POS-1", default_station_id=db.session.scalar(
            db.select(Station.id).where(Station.name == "Pass")))
        db.session.add(device)
        db.session.commit()
        waiter = make_user("waiter", ["ticketCreate"])
        cook = make_user("cook", ["orderRead", "orderUpdate"])
        made = [make_ticket(waiter, device, ("BURGER", 1), ("FRIES", 1), name=f"T{i}")[1][0]
                for i in range(4)]
        set_entry_status(user=cook, order_id=made[0].id, station_name="Kitchen", status=C)
        set_order_status(user=cook, order_id=made[1].id, status=X)
        set_item_status(user=cook, order_id=made[2].id, item_id=1, status=R)
        expected = open_entries()
        assert sorted(expected.values()) == [False] * 3 + [True] * 5

        downgrade(revision="0009")
        columns = {c["name"] for c in inspect(db.engine).get_columns("order_entries")}
        assert "is_open" not in columns
        with db.engine.begin() as conn:
            # The cells survived the way down (no table was dropped and made again).
            assert conn.execute(text("SELECT count(*) FROM order_cells")).scalar() == 12
            # Changed while there is no flag: the way up must read the cells, not assume.
            conn.execute(text("UPDATE order_cells SET status = 'Completed' "
                              "WHERE order_id = :id"), {"id": made[3].id})
        # Reading made[3] began a read of orders, which the way up would wait for: dropping an
        # index needs the table to itself.
        db.session.commit()
        upgrade()
        db.session.remove()
        expected.update({(made[3].number, "Kitchen"): False, (made[3].number, "Pass"): False})
        assert open_entries() == expected
        db.engine.dispose()
