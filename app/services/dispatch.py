"""Dispatch jobs for printer and webhook stations (contract 2.4): queueing them when an order is
processed, claiming one to send, recording what came of it, in-doubt jobs, and reprints.

Sending happens outside any transaction (app.dispatch.worker); each step here is one short
transaction, so a slow printer holds no lock and no request:
- claim: one conditional update turns a due `queued` job into `sending` under a fresh claim id.
  Of two processes claiming the same job, only one update finds it still queued.
- record: under the order's lock, and only for the claim that sent it.
- a `sending` job whose claim ran out with nothing recorded is `unknown`: the process stopped
  between sending and recording, so the slip may have printed. It is never sent again by
  itself (that could print it twice); a user who sees no slip presses Reprint.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, Forbidden, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, User, new_guid, utcnow
from app.models.dispatch import (
    DISPATCH,
    FAILED,
    QUEUED,
    REPRINT,
    SENDING,
    SENT,
    UNKNOWN,
    Delivery,
    DispatchJob,
)
from app.models.orders import Order
from app.services import history, order_rows
from app.services.order_rows import NewOrder

SENDING_TYPES = ("printer", "webhook")
WAKE = "dispatch_wake"  # session.info flag: jobs were queued, wake the sender after commit


def _done(station: Station) -> str:
    return f"printed on {station.name}" if station.type == "printer" \
        else f"delivered to {station.name}"


def _slip(station: Station) -> str:
    return "slip" if station.type == "printer" else "delivery"


def _wants_job(entry) -> bool:
    station = entry.station
    return entry.processed_at is None and station.is_active and station.type in SENDING_TYPES


def queue_locked_order(order: Order, *, user_name: str | None, now: datetime) -> bool:
    """Queue a job for each undispatched entry at an active printer or webhook station; the
    caller holds the order's lock. True if the order's history changed."""
    entries = [e for e in order.entries if _wants_job(e)]
    if not entries:
        return False
    # An order still being built (app.services.order_factory) has no rows yet: its jobs are
    # written with them.
    new = isinstance(order, NewOrder)
    jobs = {} if new else {j.entry_id: j for j in db.session.scalars(
        select(DispatchJob).where(DispatchJob.order_id == order.id, DispatchJob.kind == DISPATCH))}
    changed = False
    for entry in entries:
        job = jobs.get(entry.id)
        if job is None:
            if new:
                order.jobs.append(order_rows.first_job(entry, kind=DISPATCH, state=QUEUED,
                                                       user_name=user_name, now=now))
            else:
                db.session.add(_first_job(entry, user_name=user_name, now=now))
            detail = f"{_slip(entry.station)} queued for {entry.station.name}"
        elif job.state == FAILED:
            job.state, job.attempts, job.due_at = QUEUED, 0, now
            detail = f"{_slip(entry.station)} queued again for {entry.station.name}"
        else:
            if job.state == QUEUED:
                job.due_at = min(job.due_at or now, now)  # now, not after the back-off
                db.session.info[WAKE] = True
            continue  # sending, or in doubt: processing must not send it again
        history.record(order, "queued", user_name=user_name, level="station",
                       target=entry.station.name, at=now, detail=detail)
        changed = True
        db.session.info[WAKE] = True
    return changed


def _first_job(entry, *, user_name: str | None, now: datetime) -> DispatchJob:
    return DispatchJob(order_id=entry.order_id, entry_id=entry.id, station_id=entry.station_id,
                       kind=DISPATCH, state=QUEUED, attempts=0, due_at=now,
                       requested_by=user_name, created_at=now)


@dataclass(frozen=True)
class Claimed:
    """A job this process may send now, with everything needed to send it."""
    job_id: int
    claim_id: str
    entry_id: int
    kind: str
    attempt: int
    delivery_id: str
    order_id: str
    order_number: int
    station_name: str
    station_type: str
    address: str | None
    # The station's secret as stored: encrypted, or (saved before secrets were encrypted and
    # not yet through `flask rotate-secrets`) plain. The sender decrypts it to sign.
    encrypted_secret: str | None
    plain_secret: str | None
    settings: dict
    requested_by: str | None


def _sendable() -> tuple:
    """Jobs go out only for live orders, at stations that are on and still send (an admin may
    have turned a printer into a display meanwhile). The caller joins Station and Order."""
    return (Station.is_active.is_(True), Station.type.in_(SENDING_TYPES),
            Order.status != S.CANCELLED, Order.deleted_at.is_(None))


def due_jobs(*, now: datetime, limit: int = 100, skip_stations=()) -> list[tuple[int, int]]:
    """(job id, station id) of queued jobs due by now at active stations, oldest first."""
    statement = (
        select(DispatchJob.id, DispatchJob.station_id)
        .join(Station, Station.id == DispatchJob.station_id)
        .join(Order, Order.id == DispatchJob.order_id)
        .where(DispatchJob.state == QUEUED, DispatchJob.due_at <= now, *_sendable())
        .order_by(DispatchJob.due_at, DispatchJob.id).limit(limit))
    if skip_stations:
        statement = statement.where(DispatchJob.station_id.not_in(list(skip_stations)))
    return [(row.id, row.station_id) for row in db.session.execute(statement)]


def claim(job_id: int, *, now: datetime, lease_seconds: float) -> Claimed | None:
    """Take a due job for sending; None if another process took it first or it is not due."""
    claim_id = new_guid()
    live_orders = select(Order.id).where(Order.status != S.CANCELLED, Order.deleted_at.is_(None))
    active = select(Station.id).where(Station.is_active.is_(True),
                                      Station.type.in_(SENDING_TYPES))
    with write_transaction() as session:
        result = session.execute(
            update(DispatchJob)
            .where(DispatchJob.id == job_id, DispatchJob.state == QUEUED,
                   DispatchJob.due_at <= now, DispatchJob.station_id.in_(active),
                   DispatchJob.order_id.in_(live_orders))
            .values(state=SENDING, claim_id=claim_id, attempts=DispatchJob.attempts + 1,
                    claimed_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        job = session.scalar(select(DispatchJob).where(DispatchJob.id == job_id)
                             .options(selectinload(DispatchJob.station),
                                      selectinload(DispatchJob.order))
                             .execution_options(populate_existing=True))
        station = job.station
        return Claimed(job_id=job.id, claim_id=claim_id, entry_id=job.entry_id, kind=job.kind, attempt=job.attempts,
                       delivery_id=job.delivery_id, order_id=job.order_id,
                       order_number=job.order.number, station_name=station.name,
                       station_type=station.type, address=station.address,
                       encrypted_secret=station.encrypted_secret,
                       plain_secret=station.plain_secret, settings=dict(station.settings or {}),
                       requested_by=job.requested_by)


def record(claimed: Claimed, *, ok: bool, status_code: int | None, error: str | None,
           started_at: datetime, duration_ms: int, max_attempts: int,
           retry_seconds: float) -> None:
    """Log the attempt and, if the claim is still this job's, settle the job and the order."""
    with write_transaction() as session:
        order = session.scalar(select(Order).where(Order.id == claimed.order_id)
                               .with_for_update(key_share=True))
        job = session.scalar(select(DispatchJob).where(DispatchJob.id == claimed.job_id)
                             .execution_options(populate_existing=True))
        session.add(Delivery(
            job_id=job.id, station_id=job.station_id, order_id=order.id,
            order_number=order.number, delivery_id=job.delivery_id, kind=job.kind,
            attempt=claimed.attempt, started_at=started_at, duration_ms=duration_ms,
            status_code=status_code, ok=ok, error=(error or None) and error[:255]))
        # The station's health (app.services.station_health): failures in a row, last send.
        session.execute(update(Station).where(Station.id == job.station_id).values(
            failed_attempts=0 if ok else Station.failed_attempts + 1,
            **({"last_sent_at": utcnow()} if ok else {}))
            .execution_options(synchronize_session=False))
        if job.claim_id != claimed.claim_id or job.state not in (SENDING, UNKNOWN):
            return  # settled meanwhile (a reprint resolved it); the log keeps the attempt
        now = utcnow()
        job.claim_id = job.claimed_until = None
        if ok:
            _settle_sent(order, job, now)
        else:
            _settle_failed(order, job, error or "failed", now, max_attempts, retry_seconds)


def _settle_sent(order: Order, job: DispatchJob, now: datetime) -> None:
    job.state, job.finished_at, job.last_error, job.due_at = SENT, now, None, None
    entry, station = job.entry, job.station
    if job.kind == REPRINT:
        history.record(order, "reprinted", user_name=job.requested_by, level="station",
                       target=station.name, at=now,
                       detail=f"reprinted on {station.name}" if station.type == "printer"
                       else f"delivered again to {station.name}")
        original = db.session.scalar(select(DispatchJob).where(
            DispatchJob.entry_id == entry.id, DispatchJob.kind == DISPATCH))
        if original is None or original.state != UNKNOWN:
            return
        # The reprint settles a slip in doubt: the station has it now, once or twice.
        original.state, original.finished_at = SENT, now
        original.claim_id = original.claimed_until = None
    else:
        done = _done(station)
        if entry.station_id != station.id:  # handed over: made here for its own station
            done = f"{done} for {entry.station.name}"
        history.record(order, "dispatched", user_name=job.requested_by, level="station",
                       target=entry.station.name, at=now, detail=done)
    if entry.processed_at is None:
        entry.processed_at = now
        order.is_processed = all(e.processed_at is not None for e in order.entries)
        order.version += 1
        order.last_saved_at = now


def _settle_failed(order: Order, job: DispatchJob, error: str, now: datetime,
                   max_attempts: int, retry_seconds: float) -> None:
    # History only: the order itself did not change, so its `_v` stays and nobody editing it
    # gets a conflict because a printer is down.
    station = job.station
    job.last_error = error[:255]
    what = "reprint" if job.kind == REPRINT else _slip(station)
    if job.attempts < max_attempts:
        wait = retry_seconds * 2 ** (job.attempts - 1)
        job.state, job.due_at = QUEUED, now + timedelta(seconds=wait)
        detail = (f"{what} to {station.name} failed: {error} (attempt {job.attempts} of "
                  f"{max_attempts}; trying again in {wait:g} s)")
    else:
        job.state, job.due_at, job.finished_at = FAILED, None, now
        again = "press Reprint again" if job.kind == REPRINT else "process the order again"
        detail = (f"{what} to {station.name} failed: {error}; gave up after {job.attempts} "
                  f"attempts ({again} to retry)")
    history.record(order, "dispatch failed", user_name=job.requested_by, level="station",
                   target=station.name, at=now, detail=detail)


def resolve_stale(*, now: datetime) -> int:
    """Mark jobs whose sender stopped mid-send as in doubt; returns how many."""
    stale = db.session.execute(select(DispatchJob.id, DispatchJob.order_id).where(
        DispatchJob.state == SENDING, DispatchJob.claimed_until < now)).all()
    for job_id, order_id in stale:
        with write_transaction() as session:
            order = session.scalar(select(Order).where(Order.id == order_id)
                                   .with_for_update(key_share=True))
            job = session.get(DispatchJob, job_id, populate_existing=True)
            if job.state != SENDING or job.claimed_until >= now:
                continue  # recorded meanwhile
            # The claim id stays: should the sender's record still arrive, it settles the job.
            job.state = UNKNOWN
            station = job.station
            maybe = "printed" if station.type == "printer" else "been delivered"
            history.record(
                order, "dispatch unknown", user_name=None, level="station", target=station.name,
                at=utcnow(), detail=(f"the {_slip(station)} to {station.name} may have {maybe}: "
                                     "the process sending it stopped before it recorded the "
                                     "outcome. It is not sent again by itself; reprint it if "
                                     "it did not arrive."))
    return len(stale)


def reprint_refusal(order: Order, entry, original: DispatchJob | None
                    ) -> tuple[str, str] | None:
    """Why the entry's slip cannot be reprinted now, as (member, message); None if it can.
    `original` is the entry's dispatch job, if it has one. The order page asks this too, to
    offer the button only where pressing it would work."""
    station = entry.station
    if station.type not in SENDING_TYPES:
        return "endpointName", (f"{station.name} is a display: its screens show the order, "
                                "there is nothing to reprint.")
    if not station.is_active:
        return "endpointName", f"{station.name} is switched off; switch it on to reprint."
    if order.status == S.CANCELLED:
        return "status", "The order is cancelled."
    if entry.processed_at is None and (original is None or original.state != UNKNOWN):
        return "endpointName", (f"The {_slip(station)} has not gone out yet: processing sends "
                                "it. Reprint is for one that did.")
    return None


def reprint(*, user: User, order_id: str, station_name: str) -> Order:
    """Queue a reprint of an order's slip at one station (right orderProcess).

    Raises Forbidden, NotFound (order or its entry at that station), Conflict (a display
    station, a station switched off, a cancelled order, a slip that never went out).
    """
    from app.services.orders import lock_visible_order  # orders imports processing

    if not R.has_right(user.rights, R.ORDER_PROCESS):
        raise Forbidden("Reprinting needs the orderProcess right.")
    with write_transaction() as session:
        order = lock_visible_order(session, user=user, order_id=order_id)
        entry = next((e for e in order.entries if e.station.name == station_name), None)
        if entry is None:
            raise NotFound(f"The order is not routed to a station named {station_name!r}.")
        jobs = list(session.scalars(select(DispatchJob).where(DispatchJob.entry_id == entry.id)))
        refused = reprint_refusal(order, entry, next((j for j in jobs if j.kind == DISPATCH),
                                                     None))
        if refused:
            member, message = refused
            raise Conflict(message, member_name=member)
        station = entry.station
        if any(j.kind == REPRINT and j.state in (QUEUED, SENDING) for j in jobs):
            return order  # one reprint is on its way already; a second press adds nothing
        now = utcnow()
        session.add(DispatchJob(
            order_id=order.id, entry_id=entry.id, station_id=station.id, kind=REPRINT,
            state=QUEUED, attempts=0, due_at=now, requested_by=user.user_name, created_at=now))
        history.record(order, "reprint requested", user_name=user.user_name, level="station",
                       target=station.name, at=now, detail=f"reprint requested on {station.name}")
        session.info[WAKE] = True
    return order


def jobs_by_entry(order: Order) -> dict[int, DispatchJob]:
    """The dispatch job of each of the order's entries that has one (the order page)."""
    if not any(e.station.type in SENDING_TYPES for e in order.entries):
        return {}  # displays have no jobs: no query
    return {j.entry_id: j for j in db.session.scalars(select(DispatchJob).where(
        DispatchJob.order_id == order.id, DispatchJob.kind == DISPATCH))}


def deliveries(station: Station, *, limit: int = 50) -> list[Delivery]:
    """The station's latest attempts, newest first."""
    return list(db.session.scalars(select(Delivery).where(Delivery.station_id == station.id)
                                   .order_by(Delivery.id.desc()).limit(limit)))


def pending_count() -> int:
    """Jobs queued or being sent for live orders at active stations."""
    return db.session.scalar(
        select(func.count()).select_from(DispatchJob)
        .join(Station, Station.id == DispatchJob.station_id)
        .join(Order, Order.id == DispatchJob.order_id)
        .where(DispatchJob.state.in_((QUEUED, SENDING)), *_sendable())) or 0
