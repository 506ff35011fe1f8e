"""A printer that fails hands its slips to its backup station: once, marked for it, and new
slips go to it again once it prints again."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.dispatch import Delivery
from app.services import products, stations
from tests.conftest import make_ticket
from tests.dispatch.test_printing import entry_at, events, settle
from tests.dispatch_fakes import FakePrinter, decode_slip, refusing_address


@pytest.fixture
def spare():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def grill(app, catalog, spare):
    """Grill, a printer that refuses every connection, backed up by the Spare printer."""
    stations.create_station(name="Spare", type="printer", address=spare.address)
    stations.create_station(name="Grill", type="printer", address=refusing_address(),
                            backup_station_name="Spare")
    products.create_product(code="STEAK", name="Steak", price=Decimal("24"),
                            station_names=["Grill"])


def test_a_printer_refusing_three_times_hands_the_slip_to_its_backup_once(
        app, grill, spare, waiter, catalog):
    assert app.config["STATION_FAILING_ATTEMPTS"] == 3
    _, (order,) = make_ticket(waiter, catalog, ("STEAK", 2), name="Table 9")
    settle(app)
    [job] = spare.wait_for(1)
    slip = decode_slip(job)
    assert f"#{order.number}" in slip.large_lines and "2 x Steak" in slip.lines
    assert "Spare - for Grill" in slip.lines
    grill_id = stations.get_station("Grill").id
    attempts = [(d.station_id == grill_id, d.ok) for d in db.session.scalars(
        select(Delivery).where(Delivery.order_id == order.id).order_by(Delivery.id))]
    assert attempts == [(True, False)] * 3 + [(False, True)]
    entry = entry_at(order.id, "Grill")
    assert entry.processed_at is not None and entry.handed_to.name == "Spare"
    assert ("handed over", "Grill", "Grill failed its last 3 attempts: handed to Spare") \
        in events(order.id)
    assert ("dispatched", "Grill", "printed on Spare for Grill") in events(order.id)
    # Nothing more comes out, however often the sender looks.
    settle(app)
    assert len(spare.jobs) == 1
    assert stations.get_station("Grill").failed_attempts >= 3


def test_a_printer_that_prints_again_gets_new_slips_again(app, grill, spare, waiter, catalog):
    make_ticket(waiter, catalog, ("STEAK", 1), name="Table 1")
    settle(app)
    spare.wait_for(1)
    with FakePrinter() as mended:
        grill_station = stations.get_station("Grill")
        stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                                address=mended.address, settings={},
                                backup_station_name="Spare")
        assert grill_station.failed_attempts >= 3  # failing still: nothing went through yet
        _, (later,) = make_ticket(waiter, catalog, ("STEAK", 3), name="Table 2")
        settle(app)
        [job] = mended.wait_for(1)
        assert "3 x Steak" in decode_slip(job).lines
        assert len(spare.jobs) == 1
        assert entry_at(later.id, "Grill").handed_to_id is None
        assert stations.get_station("Grill").failed_attempts == 0
