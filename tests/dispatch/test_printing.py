"""Printer stations (contract 2.2, 2.4): slips reach a fake ESC/POS printer on loopback once per
order, failures leave the entry undispatched with the reason in the history, reprints are marked,
and a sender that stops between sending and recording never causes a second slip by itself."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.dispatch.worker import dispatcher_for
from app.extensions import db
from app.models import Device
from app.models.dispatch import DispatchJob
from app.models.orders import Order, OrderEntry, OrderEvent
from app.services import dispatch, processing, products, stations
from app.services.tickets import create_ticket, update_ticket
from tests.conftest import bearer, lines, make_ticket, make_user
from tests.dispatch_fakes import FakePrinter, decode_slip, refusing_address, stalling_printer


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def grill(app, catalog, printer):
    """A printer station Grill; STEAK goes to it and to the Pass display."""
    stations.create_station(name="Grill", type="printer", address=printer.address)
    products.create_product(code="STEAK", name="Steak", price=Decimal("24.00"),
                            station_names=["Grill", "Pass"], course=2)
    return printer


def settle(app):
    """Send what is queued, then read the database afresh."""
    dispatcher_for(app).drain()
    db.session.commit()
    db.session.expire_all()


def number_on(slip) -> str:
    """The order number as printed large at the top of a slip."""
    return next(line for line in slip.large_lines if line.startswith("#"))


def entry_at(order_id, station_name) -> OrderEntry:
    return next(e for e in db.session.get(Order, order_id).entries
                if e.station.name == station_name)


def events(order_id, *actions):
    return [(e.action, e.target, e.detail) for e in db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        if not actions or e.action in actions]


def test_processing_prints_one_slip_per_order(app, grill, waiter, catalog):
    _, (order,) = make_ticket(waiter, catalog, ("STEAK", 2, "rare"), ("FRIES", 1),
                              name="Table 7")
    # Queued in the order's transaction; nothing is sent before it commits.
    assert grill.jobs == []
    assert entry_at(order.id, "Grill").processed_at is None
    assert entry_at(order.id, "Pass").processed_at is not None  # a display needs no sending

    settle(app)
    [job] = grill.wait_for(1)
    slip = decode_slip(job)
    assert f"#{order.number}" in slip.large_lines
    assert "Grill" in slip.lines
    assert "Table 7" in slip.lines
    assert "2 x Steak" in slip.lines
    assert any("note: rare" in line for line in slip.lines)
    assert any("course 2" in line for line in slip.lines)
    assert "Fries" not in slip.text  # fries go to the kitchen, not to the grill
    assert "REPRINT" not in slip.text and slip.cut
    assert entry_at(order.id, "Grill").processed_at is not None
    assert db.session.get(Order, order.id).is_processed
    assert ("dispatched", "Grill", "printed on Grill") in events(order.id)

    # Processing again, and again: nothing more is printed.
    manager = make_user("boss", ["orderProcess"])
    assert processing.process_orders(user=manager, order_ids=[order.id]) == []
    settle(app)
    processing.process_orders(user=manager, order_ids=[order.id])
    settle(app)
    assert len(grill.jobs) == 1


def test_each_order_gets_its_own_slip_and_a_void_prints_as_a_cancellation(
        app, grill, waiter, catalog):
    ticket, (first,) = make_ticket(waiter, catalog, ("STEAK", 3))
    _, (void,) = update_ticket(user=waiter, device=catalog, ticket_id=ticket.id,
                               name=ticket.name, lines=lines(("STEAK", 1)),
                               version=ticket.version)
    assert void.is_void
    settle(app)
    slips = [decode_slip(j) for j in grill.wait_for(2)]
    by_number = {number_on(s): s for s in slips}
    assert sorted(by_number) == sorted([f"#{first.number}", f"#{void.number}"])
    assert "CANCELLATION" not in by_number[f"#{first.number}"].text
    assert "3 x Steak" in by_number[f"#{first.number}"].lines
    cancelled = by_number[f"#{void.number}"]
    assert "CANCELLATION" in cancelled.text
    assert "Steak" in cancelled.text


def test_the_printer_settings_switch_beep_number_size_and_cut(app, grill, waiter, catalog):
    admin = make_user("root", ["admin"])
    station = stations.get_station("Grill")
    stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                            address=station.address, settings={
                                "beep": "on", "largeNumber": "off", "doubleSize": "yes",
                                "cut": "false"}, version=station.version)
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    settle(app)
    slip = decode_slip(grill.wait_for(1)[0])
    assert slip.beeps >= 1
    assert f"#{order.number}" not in slip.large_lines
    assert f"#{order.number}" in slip.text
    assert any("Steak" in line for line in slip.large_lines)  # double-size items
    assert not slip.cut
    assert admin  # the settings are an admin's to change; the service does not check rights


def test_a_refusing_printer_leaves_the_entry_undispatched_and_a_later_run_prints_once(
        app, grill, waiter, catalog, client):
    station = stations.get_station("Grill")
    stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                            address=refusing_address(), settings={}, version=station.version)
    manager = make_user("boss", ["orderRead", "orderProcess"])
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    settle(app)  # three attempts with back-off (the tests' DISPATCH_MAX_ATTEMPTS), then gives up

    assert entry_at(order.id, "Grill").processed_at is None
    failures = events(order.id, "dispatch failed")
    assert len(failures) == 3
    assert all("refused" in detail for _, _, detail in failures)
    assert "attempt 1 of 3" in failures[0][2] and "gave up after 3 attempts" in failures[2][2]
    answer = client.get(f"/api/orders/{order.id}", headers=bearer(manager))
    assert answer.json["isProcessable"] is True and answer.json["isProcessed"] is False
    assert grill.jobs == []

    # The printer is back (at its address): the next processing run prints it, once.
    station = stations.get_station("Grill")
    stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                            address=grill.address, settings={}, version=station.version)
    answer = client.post("/api/orders", json={"orderIds": [order.id]}, headers=bearer(manager))
    assert answer.status_code == 200 and [o["id"] for o in answer.json] == [order.id]
    settle(app)
    settle(app)
    assert len(grill.wait_for(1)) == 1
    assert entry_at(order.id, "Grill").processed_at is not None
    answer = client.get(f"/api/orders/{order.id}", headers=bearer(manager))
    assert answer.json["isProcessable"] is False and answer.json["isProcessed"] is True


def test_a_stalling_printer_does_not_hold_the_request(app, grill, waiter, catalog, client):
    app.config["DISPATCH_IN_BACKGROUND"] = True
    with stalling_printer() as address:
        station = stations.get_station("Grill")
        stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                                address=address, settings={}, version=station.version)
        answer = client.post("/api/tickets", headers=bearer(waiter, "POS-1"), json={
            "name": "Table 2", "items": [{"productCode": "STEAK", "quantity": 1}]})
        assert answer.status_code == 201
        db.session.commit()
        order = db.session.scalar(select(Order.id).order_by(Order.number.desc()))
        # The answer came while the slip was still waiting for the printer.
        job = db.session.scalar(select(DispatchJob).where(DispatchJob.order_id == order))
        assert job.state in ("queued", "sending") and job.finished_at is None
        dispatcher_for(app).drain()
    db.session.commit()
    db.session.expire_all()
    failures = events(order, "dispatch failed")
    assert failures and all("timed out" in detail for _, _, detail in failures)
    assert entry_at(order, "Grill").processed_at is None

    # The printer answers again: the next processing run prints the slip, once.
    station = stations.get_station("Grill")
    stations.update_station("Grill", name="Grill", type="printer", is_active=True,
                            address=grill.address, settings={}, version=station.version)
    processing.process_orders(user=make_user("boss", ["orderProcess"]), order_ids=[order])
    dispatcher_for(app).drain()
    assert len(grill.wait_for(1)) == 1
    db.session.commit()
    db.session.expire_all()
    assert entry_at(order, "Grill").processed_at is not None


def test_a_station_switched_off_is_skipped_until_it_is_on_again(app, grill, waiter, catalog):
    stations.set_station_active("Grill", is_active=False)
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    settle(app)
    assert grill.jobs == [] and entry_at(order.id, "Grill").processed_at is None
    assert db.session.scalar(select(DispatchJob).where(DispatchJob.order_id == order.id)) is None

    # Switched on, it dispatches what waited for it by itself, once.
    stations.set_station_active("Grill", is_active=True)
    settle(app)
    assert len(grill.wait_for(1)) == 1
    assert entry_at(order.id, "Grill").processed_at is not None
    manager = make_user("boss", ["orderProcess"])
    processing.process_orders(user=manager, order_ids=[order.id])
    settle(app)
    assert len(grill.jobs) == 1


def test_reprint_prints_again_marked_as_a_reprint(app, grill, waiter, catalog, client):
    manager = make_user("boss", ["orderRead", "orderProcess"])
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    settle(app)
    grill.wait_for(1)

    answer = client.post(f"/api/orders/{order.id}/endpoints/Grill/reprint",
                         headers=bearer(manager))
    assert answer.status_code == 202 and answer.json["id"] == order.id
    settle(app)
    first, again = grill.wait_for(2)
    assert "REPRINT" not in decode_slip(first).text
    reprint = decode_slip(again)
    assert "REPRINT" in reprint.text and f"#{order.number}" in reprint.large_lines
    assert [a for a, _, _ in events(order.id, "reprint requested", "reprinted")] == [
        "reprint requested", "reprinted"]
    assert events(order.id, "reprinted")[0][1] == "Grill"


def test_reprint_is_refused_where_it_makes_no_sense(app, grill, waiter, catalog, client):
    manager = make_user("boss", ["orderRead", "orderProcess"])
    reader = make_user("reader", ["orderRead"])
    stranger = make_user("stranger", [])
    app.config["AUTO_PROCESS"] = False
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    url = f"/api/orders/{order.id}/endpoints/{{}}/reprint"

    never_sent = client.post(url.format("Grill"), headers=bearer(manager))
    assert never_sent.status_code == 409 and "not gone out" in never_sent.json["detail"]
    display = client.post(url.format("Pass"), headers=bearer(manager))
    assert display.status_code == 409 and "display" in display.json["detail"]
    assert client.post(url.format("Bar"), headers=bearer(manager)).status_code == 404
    assert client.post(url.format("Grill"), headers=bearer(reader)).status_code == 403
    assert client.post(url.format("Grill"), headers=bearer(stranger)).status_code in (403, 404)
    settle(app)
    assert grill.jobs == []
    assert events(order.id, "reprint requested") == []


def test_a_sender_that_stops_between_sending_and_recording_never_prints_twice(
        app, grill, waiter, catalog, client, monkeypatch):
    app.config["DISPATCH_LEASE_SECONDS"] = 1.2
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    record = dispatch.record

    def stop_before_recording(*args, **kwargs):
        raise SystemError("the process stopped here")

    monkeypatch.setattr(dispatch, "record", stop_before_recording)
    settle(app)  # sends, cannot record; the claim runs out and the job is in doubt
    monkeypatch.setattr(dispatch, "record", record)
    grill.wait_for(1)
    settle(app)
    job = db.session.scalar(select(DispatchJob).where(DispatchJob.order_id == order.id))
    assert job.state == "unknown"
    assert entry_at(order.id, "Grill").processed_at is None
    [(_, target, detail)] = events(order.id, "dispatch unknown")
    assert target == "Grill" and "may have printed" in detail

    # Processing does not send it again...
    manager = make_user("boss", ["orderRead", "orderProcess"])
    processing.process_orders(user=manager, order_ids=[order.id])
    settle(app)
    assert len(grill.jobs) == 1
    # ...a person who saw no slip reprints it, and that settles the entry.
    assert client.post(f"/api/orders/{order.id}/endpoints/Grill/reprint",
                       headers=bearer(manager)).status_code == 202
    settle(app)
    assert "REPRINT" in decode_slip(grill.wait_for(2)[1]).text
    assert entry_at(order.id, "Grill").processed_at is not None
    assert db.session.get(DispatchJob, job.id).state == "sent"
    assert len(grill.jobs) == 2


def test_a_device_default_printer_gets_unrouted_items(app, printer, waiter):
    stations.create_station(name="Counter", type="printer", address=printer.address)
    products.create_product(code="TEA", name="Tea", price=Decimal("2.00"))
    device = Device(name="POS-9", default_station_id=stations.get_station("Counter").id)
    db.session.add(device)
    db.session.commit()
    order = make_ticket(waiter, device, ("TEA", 2))[1][0]
    settle(app)
    slip = decode_slip(printer.wait_for(1)[0])
    assert "2 x Tea" in slip.lines and f"#{order.number}" in slip.large_lines


def test_a_printer_turned_into_a_display_sends_nothing_more(app, grill, waiter, catalog):
    app.config["AUTO_PROCESS"] = False
    order = make_ticket(waiter, catalog, ("STEAK", 1))[1][0]
    manager = make_user("boss", ["orderProcess"])
    stations.set_station_active("Grill", is_active=False)
    processing.process_orders(user=manager, order_ids=[order.id])  # Grill off: not queued
    stations.set_station_active("Grill", is_active=True)
    processing.process_orders(user=manager, order_ids=[order.id])  # queued now...
    station = stations.get_station("Grill")
    stations.update_station("Grill", name="Grill", type="display", is_active=True,
                            address=None, settings={}, version=station.version)
    settle(app)  # ...but Grill is a screen now: nothing is printed, nothing waits forever
    assert grill.jobs == []
    processing.process_orders(user=manager, order_ids=[order.id])
    db.session.commit()
    db.session.expire_all()
    assert entry_at(order.id, "Grill").processed_at is not None  # shown on its screens


def test_a_rush_takeout_order_prints_rush_and_its_type(app, grill, waiter, catalog):
    _, (order,) = create_ticket(user=waiter, device=catalog, name="Window",
                                lines=lines(("STEAK", 1)), is_rush=True, order_type="takeout")
    settle(app)
    [job] = grill.wait_for(1)
    slip = decode_slip(job)
    assert slip.lines[:4] == ["RUSH", "Grill", f"#{order.number}", "TAKEOUT"]
    assert "RUSH" in slip.inverted_lines and "RUSH" in slip.large_lines


def test_a_slip_shows_the_modifiers_and_the_guest_allergy_of_its_items(app, grill, waiter,
                                                                       catalog):
    from app.core.modifiers import Modifier
    from app.services.tickets import LineInput

    products.update_product("STEAK", code="STEAK", name="Steak", price=Decimal("24.00"),
                            station_names=["Grill", "Pass"], allergens=["mustard"])
    device = db.session.scalar(select(Device).where(Device.name == "POS-1"))
    create_ticket(user=waiter, device=device, name="Table 8", lines=[LineInput(
        "STEAK", Decimal(1), modifiers=(Modifier("Pepper sauce"),),
        allergies=("mustard", "celery"))])
    settle(app)
    [job] = grill.wait_for(1)
    slip = decode_slip(job)
    assert slip.lines[slip.lines.index("1 x Steak") + 1] == "  + Pepper sauce"
    assert "ALLERGY: CELERY, MUSTARD" in slip.inverted_lines
    assert "  contains Mustard" in slip.lines
