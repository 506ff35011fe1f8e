"""Station health, backup stations and the stations that dispatch what waited for them."""
from datetime import timedelta

import pytest

from app.core.errors import Conflict, Invalid
from app.extensions import db
from app.models import utcnow
from app.models.orders import Order, OrderEvent
from app.services import kiosk, station_health, stations
from tests.conftest import make_ticket


@pytest.fixture
def watched(app, catalog):
    """Kitchen (a display) backed up by Pass; both shown on a screen just now."""
    app.config["STATION_SEEN_WRITE_SECONDS"] = 0
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings={}, backup_station_name="Pass")
    now = utcnow()
    station_health.note_screen(station_name="Kitchen", screen_id="kitchen-1", now=now)
    station_health.note_screen(station_name="Pass", screen_id="pass-1", now=now)
    return now


def health(name, now):
    station = stations.get_station(name)
    return station_health.health_of([station], now=now)[station.id]


def entry_at(order_id, name):
    db.session.expire_all()
    return next(e for e in db.session.get(Order, order_id).entries if e.station.name == name)


def later(now, seconds):
    return now + timedelta(seconds=seconds)


def test_health_of_a_display_station_counts_its_screens(app, watched):
    now = watched
    station_health.note_screen(station_name="Kitchen", screen_id="kitchen-2", now=now)
    assert health("Kitchen", now) == station_health.Health(
        screens=2, last_seen=now, failing=False, unwatched=False)
    # A minute later without a poll: unwatched, and no screen counted.
    gone = later(now, app.config["STATION_UNWATCHED_SECONDS"] + 1)
    assert health("Kitchen", gone) == station_health.Health(
        screens=0, last_seen=now, failing=False, unwatched=True)
    # Never shown on a screen: not watched yet, no alarm.
    assert health("Bar", gone) == station_health.Health(
        screens=0, last_seen=None, failing=False, unwatched=False)
    # Switched off: no alarm either.
    stations.set_station_active("Kitchen", is_active=False)
    assert not health("Kitchen", gone).alarm


def test_a_screen_is_written_at_most_once_per_interval(app, watched):
    app.config["STATION_SEEN_WRITE_SECONDS"] = 30
    now = watched
    station_health.note_screen(station_name="Kitchen", screen_id="kitchen-1",
                               now=later(now, 5))
    assert health("Kitchen", now).last_seen == now  # too soon: not written again


def test_an_unwatched_display_hands_its_open_cards_to_its_backup(app, watched, waiter,
                                                                 catalog, manager):
    now = watched
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 2), name="Table 3")
    assert entry_at(order.id, "Kitchen").processed_at is not None
    # Nothing happens while Kitchen is watched.
    assert station_health.hand_over_unwatched(now=later(now, 5)) == 0
    gone = later(now, 61)
    station_health.note_screen(station_name="Pass", screen_id="pass-1", now=gone)
    assert station_health.hand_over_unwatched(now=gone) == 1
    entry = entry_at(order.id, "Kitchen")
    assert entry.handed_to.name == "Pass"
    [line] = db.session.scalars(db.select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "handed over")).all()
    assert (line.target, line.detail) == (
        "Kitchen", "Kitchen is not watched by any screen: handed to Pass")
    # On the Pass screen, marked for Kitchen; gone from the Kitchen screen.
    [card] = kiosk.get_station_board(viewer=manager, station_name="Pass").cards
    assert (card.order.id, card.for_station) == (order.id, "Kitchen")
    assert kiosk.get_station_board(viewer=manager, station_name="Kitchen").cards == []
    # Pass works it as Kitchen's part of the order.
    kiosk.bump_entry(viewer=manager, station_name="Pass", order_id=order.id)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "Completed"
    assert station_health.hand_over_unwatched(now=gone) == 0  # once


def test_a_station_back_on_a_screen_gets_new_entries_again(app, watched, waiter, catalog,
                                                           manager):
    now = watched
    gone = later(now, 61)
    station_health.note_screen(station_name="Pass", screen_id="pass-1", now=gone)
    _, (first,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 1")
    station_health.hand_over_unwatched(now=gone)
    assert entry_at(first.id, "Kitchen").handed_to_id is not None
    # A screen shows Kitchen again.
    station_health.note_screen(station_name="Kitchen", screen_id="kitchen-1",
                               now=later(gone, 1))
    _, (second,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 2")
    assert station_health.hand_over_unwatched(now=later(gone, 2)) == 0
    assert entry_at(second.id, "Kitchen").handed_to_id is None
    board = kiosk.get_station_board(viewer=manager, station_name="Kitchen")
    assert [c.order.id for c in board.cards] == [second.id]
    # What was handed over stays with the backup.
    assert entry_at(first.id, "Kitchen").handed_to.name == "Pass"


def test_no_hand_over_to_a_backup_that_is_in_trouble_too(app, watched, waiter, catalog):
    gone = later(watched, 61)  # neither screen has polled since
    make_ticket(waiter, catalog, ("FRIES", 1), name="Table 1")
    assert station_health.hand_over_unwatched(now=gone) == 0


def test_a_failing_printer_is_failing_in_its_health(app, catalog):
    stations.create_station(name="Slips", type="printer", address="127.0.0.1:9")
    slips = stations.get_station("Slips")
    db.session.execute(db.update(type(slips)).where(type(slips).id == slips.id)
                       .values(failed_attempts=2))
    db.session.commit()
    db.session.expire_all()
    assert not health("Slips", utcnow()).failing
    db.session.execute(db.update(type(slips)).where(type(slips).id == slips.id)
                       .values(failed_attempts=3))
    db.session.commit()
    db.session.expire_all()
    assert health("Slips", utcnow()) == station_health.Health(
        screens=0, last_seen=None, failing=True, unwatched=False)
    assert [s.name for s, _ in station_health.alarmed_stations()] == ["Slips"]


def test_a_station_switched_back_on_dispatches_what_waited_for_it(app, catalog, waiter):
    stations.set_station_active("Kitchen", is_active=False)
    _, (order,) = make_ticket(waiter, catalog, ("FRIES", 2), name="Table 5")
    assert entry_at(order.id, "Kitchen").processed_at is None
    assert station_health.waiting_counts() == {stations.get_station("Kitchen").id: 1}
    stations.set_station_active("Kitchen", is_active=True)
    entry = entry_at(order.id, "Kitchen")
    assert entry.processed_at is not None and db.session.get(Order, order.id).is_processed
    assert station_health.waiting_counts() == {}
    # The same through a full update of the station.
    stations.set_station_active("Kitchen", is_active=False)
    _, (other,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Table 6")
    stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                            address=None, settings={})
    assert entry_at(other.id, "Kitchen").processed_at is not None


def test_backup_names_are_checked(app, catalog):
    with pytest.raises(Invalid) as refused:
        stations.update_station("Kitchen", name="Kitchen", type="display", is_active=True,
                                address=None, settings={}, backup_station_name="Kitchen")
    assert refused.value.errors[0].member_name == "backupStationName"
    with pytest.raises(Invalid):
        stations.create_station(name="Grill", backup_station_name="Nowhere")
    stations.create_station(name="Grill", backup_station_name="Bar")
    assert stations.get_station("Grill").backup.name == "Bar"
    with pytest.raises(Conflict, match="the backup of Grill"):
        stations.delete_station("Bar")
