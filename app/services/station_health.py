"""Whether a station can be counted on, and handing its work to its backup station when not.

- A display station is *unwatched* when screens have shown it before and none has asked for
  its board for STATION_UNWATCHED_SECONDS. Screens say they are there with every poll
  (`note_screen`), written to the database at most once per STATION_SEEN_WRITE_SECONDS per
  screen, so every server process sees them. A station never opened on a screen is not
  unwatched: it has never been watched (and raises no alarm).
- A printer or webhook station is *failing* when its last STATION_FAILING_ATTEMPTS attempts
  failed (`Station.failed_attempts`, kept by app.services.dispatch.record).
- An active station that is either, with an active backup that is neither, hands its
  undelivered entries to the backup: a display's open cards, a printer's or webhook's slips
  not sent. Each hand-over is a history line; the entry stays the station's part of the order
  (its status, its name in the API) and is made at the backup, whose cards say "for Grill".
  New entries go to the backup while the station is in trouble, and to the station again
  once it is back (a screen polls, or a send goes through).
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core import status as S
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, StationScreen, utcnow
from app.models.dispatch import DISPATCH, FAILED, QUEUED, DispatchJob
from app.models.orders import Order, OrderEntry
from app.services import history

SENDING_TYPES = ("printer", "webhook")


@dataclass(frozen=True)
class Health:
    screens: int  # screens that asked for the board within the unwatched window
    last_seen: datetime | None  # displays: the latest poll; others: the latest send
    failing: bool  # a printer or webhook whose last attempts all failed
    unwatched: bool  # a display station no screen has asked for its board lately

    @property
    def alarm(self) -> bool:
        return self.failing or self.unwatched


def _unwatched_before(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["STATION_UNWATCHED_SECONDS"])


def health_of(stations, *, now: datetime | None = None) -> dict[int, Health]:
    """Each station's health, by id: one statement for the display stations' screens, none
    when there are no display stations."""
    now = now or utcnow()
    cutoff = _unwatched_before(now)
    displays = [s.id for s in stations if s.type not in SENDING_TYPES]
    seen = {}
    if displays:
        seen = {row.station_id: row for row in db.session.execute(
            select(StationScreen.station_id,
                   func.count(case((StationScreen.last_seen_at >= cutoff, 1))).label("screens"),
                   func.max(StationScreen.last_seen_at).label("last"))
            .where(StationScreen.station_id.in_(displays))
            .group_by(StationScreen.station_id))}
    limit = current_app.config["STATION_FAILING_ATTEMPTS"]
    found = {}
    for station in stations:
        if station.type in SENDING_TYPES:
            found[station.id] = Health(
                screens=0, last_seen=station.last_sent_at, unwatched=False,
                failing=bool(station.is_active and (station.failed_attempts or 0) >= limit))
        else:
            row = seen.get(station.id)
            last = row.last if row else None
            found[station.id] = Health(
                screens=row.screens if row else 0, last_seen=last, failing=False,
                unwatched=bool(station.is_active and last is not None and last < cutoff))
    return found


def alarmed_stations(stations=None, *, now: datetime | None = None
                     ) -> list[tuple[Station, Health]]:
    """Active stations that fail or are unwatched, by name: the banner's list. `stations`:
    every station, when the caller has them already."""
    if stations is None:
        stations = db.session.scalars(select(Station).order_by(Station.name))
    stations = sorted((s for s in stations if s.is_active), key=lambda s: s.name)
    health = health_of(stations, now=now)
    return [(s, health[s.id]) for s in stations if health[s.id].alarm]


def note_screen(*, station_name: str, screen_id: str, now: datetime | None = None) -> None:
    """A screen shows the station's board. Written at most once per STATION_SEEN_WRITE_SECONDS
    per screen: this process remembers when it last wrote, and the update only moves a time
    older than that (so several processes do not all write)."""
    every = current_app.config["STATION_SEEN_WRITE_SECONDS"]
    written = current_app.extensions.setdefault("station_screens_written", {})
    key, clock = (station_name, screen_id), time.monotonic()
    if clock - written.get(key, float("-inf")) < every:
        return
    written[key] = clock
    now = now or utcnow()
    station_id = select(Station.id).where(Station.name == station_name).scalar_subquery()
    with write_transaction() as session:
        # Usually one statement: the screen's row moved on.
        moved = session.execute(
            update(StationScreen)
            .where(StationScreen.station_id == station_id,
                   StationScreen.screen_id == screen_id,
                   StationScreen.last_seen_at < now - timedelta(seconds=every))
            .values(last_seen_at=now).execution_options(synchronize_session=False))
        if moved.rowcount:
            return
        found = session.scalar(select(Station.id).where(Station.name == station_name))
        if found is None:
            return
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" \
            else sqlite_insert
        # Nothing if the row is there and recent (another process wrote it just now).
        session.execute(insert(StationScreen).values(
            station_id=found, screen_id=screen_id, last_seen_at=now).on_conflict_do_nothing())
        # A new screen: those gone for a day are forgotten, so the table stays small.
        session.execute(StationScreen.__table__.delete().where(
            StationScreen.station_id == found,
            StationScreen.last_seen_at < now - timedelta(days=1)))


def backup_for(station: Station, *, now: datetime | None = None) -> Station | None:
    """The station to send the station's work to now: its backup if the station is in trouble
    and the backup is active and not; else None."""
    backup = station.backup
    if backup is None or not station.is_active or not backup.is_active:
        return None
    health = health_of([station, backup], now=now)
    if not health[station.id].alarm or health[backup.id].alarm:
        return None
    return backup


def hand_to_backup(order: Order, entry: OrderEntry, backup: Station, *, why: str,
                   now: datetime) -> None:
    """Make the entry at `backup` instead of its own station; the caller holds the order's
    lock (or builds it). A display backup shows it at once; a printer or webhook backup is
    given the entry's slip to send."""
    station = entry.station
    entry.handed_to_id = backup.id
    if backup.type in SENDING_TYPES:
        entry.processed_at = None
        job = db.session.scalar(select(DispatchJob).where(
            DispatchJob.entry_id == entry.id, DispatchJob.kind == DISPATCH))
        if job is None:
            db.session.add(DispatchJob(
                order_id=order.id, entry_id=entry.id, station_id=backup.id, kind=DISPATCH,
                state=QUEUED, attempts=0, due_at=now, created_at=now))
        else:
            job.station_id, job.state, job.attempts, job.due_at = backup.id, QUEUED, 0, now
            job.last_error = job.claim_id = job.claimed_until = None
        from app.services.dispatch import WAKE  # dispatch imports this module
        db.session.info[WAKE] = True
    elif entry.processed_at is None:
        entry.processed_at = now
    history.record(order, "handed over", user_name=None, level="station", target=station.name,
                   at=now, detail=f"{station.name} {why}: handed to {backup.name}")
    order.is_processed = all(e.processed_at is not None for e in order.entries)
    order.version += 1
    order.last_saved_at = now


def _why(station: Station) -> str:
    if station.type in SENDING_TYPES:
        return f"failed its last {current_app.config['STATION_FAILING_ATTEMPTS']} attempts"
    return "is not watched by any screen"


def _waiting_entries(station: Station):
    """The entries the station has not delivered: a display's open cards; a printer's or
    webhook's entries whose slip has not gone out and is not on its way (one being sent, or
    in doubt, might have printed: those stay)."""
    live = and_(Order.deleted_at.is_(None), Order.status != S.CANCELLED)
    query = (select(OrderEntry.id, OrderEntry.order_id)
             .join(Order, Order.id == OrderEntry.order_id)
             .where(OrderEntry.station_id == station.id, OrderEntry.handed_to_id.is_(None),
                    live))
    if station.backup_station_id is not None:
        # An order that has its own entry at the backup keeps this one here: one card per
        # order on a screen.
        at_backup = select(OrderEntry.order_id).where(
            OrderEntry.station_id == station.backup_station_id)
        query = query.where(OrderEntry.order_id.not_in(at_backup))
    if station.type in SENDING_TYPES:
        sending = select(DispatchJob.entry_id).where(
            DispatchJob.kind == DISPATCH, DispatchJob.state.not_in((QUEUED, FAILED)))
        return query.where(OrderEntry.processed_at.is_(None), OrderEntry.id.not_in(sending))
    return query.where(OrderEntry.is_open.is_(True))


def hand_over(station_name: str, *, now: datetime | None = None) -> int:
    """If the station is in trouble and its backup is not, hand the backup every entry the
    station has not delivered. Returns how many were handed over."""
    now = now or utcnow()
    station = db.session.scalar(select(Station).where(Station.name == station_name))
    if station is None or backup_for(station, now=now) is None:
        return 0
    backup, why = station.backup, _why(station)
    waiting = db.session.execute(_waiting_entries(station).order_by(OrderEntry.order_id)).all()
    handed = 0
    for entry_id, order_id in waiting:
        with write_transaction() as session:
            order = session.scalar(select(Order).where(Order.id == order_id)
                                   .with_for_update(key_share=True))
            entry = next((e for e in order.entries if e.id == entry_id), None)
            # Read again under the lock: it may have been delivered meanwhile.
            if entry is None or session.scalar(_waiting_entries(entry.station).where(
                    OrderEntry.id == entry_id)) is None:
                continue
            hand_to_backup(order, entry, session.get(Station, backup.id), why=why, now=now)
            handed += 1
    return handed


def hand_over_unwatched(*, now: datetime | None = None) -> int:
    """Hand over the work of every unwatched display station that has a backup (the sender's
    sweep asks this; no request comes from a station nobody watches)."""
    names = list(db.session.scalars(select(Station.name).where(
        Station.is_active.is_(True), Station.backup_station_id.is_not(None),
        Station.type.not_in(SENDING_TYPES))))
    return sum(hand_over(name, now=now) for name in names)


def waiting_counts() -> dict[int, int]:
    """How many entries of live orders wait for each station: not yet dispatched (a station
    switched off, a slip not sent yet). The stations page shows them."""
    return dict(db.session.execute(
        select(OrderEntry.station_id, func.count())
        .join(Order, Order.id == OrderEntry.order_id)
        .where(OrderEntry.processed_at.is_(None), OrderEntry.handed_to_id.is_(None),
               Order.deleted_at.is_(None), Order.status != S.CANCELLED)
        .group_by(OrderEntry.station_id)).all())
