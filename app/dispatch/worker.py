"""The sender: claims due dispatch jobs and sends them, outside any request or transaction.

Every server process runs one in a background thread (unless DISPATCH_IN_BACKGROUND is off and
`flask dispatch` runs on its own). A processing run wakes it after its commit; otherwise it looks
for due jobs (retries after back-off, jobs left by a stopped process) every poll interval. Jobs
for one station go out one after another, stations side by side, so a printer that hangs delays
only its own slips. Claims (app.services.dispatch) keep two processes from sending one job.
"""
import atexit
import logging
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import encryption
from app.dispatch import payloads, senders
from app.extensions import db
from app.models import utcnow
from app.services import dispatch, events, station_health, webhooks

log = logging.getLogger(__name__)
SENDERS = 4  # stations (and webhook subscriptions) served at once per process
HOOK = "webhook"  # a subscription's key among the stations being served: (HOOK, its id)
PRUNE_EVERY = timedelta(hours=1)


class Dispatcher:
    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy: set = set()  # station ids, and (HOOK, subscription id)
        self._pid: int | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        # Whether any webhook subscription is active, as of the last sweep: a commit that wrote
        # events wakes the sender only then.
        self.has_subscriptions = False
        self._pruned_at = None

    # --- running --------------------------------------------------------------------------

    def _ensure_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            # A forked worker inherits the object but none of the parent's threads.
            if self._pid != os.getpid() or self._pool is None:
                self._pid, self._busy, self._thread = os.getpid(), set(), None
                self._stop = threading.Event()
                self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="dispatch")
            return self._pool

    def start(self) -> None:
        """Run the loop in a background thread of this process (once)."""
        self._ensure_pool()
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self.run, name="dispatcher", daemon=True)
            self._thread.start()
        atexit.register(self.stop)

    def wake(self) -> None:
        if self.app.config["DISPATCH_IN_BACKGROUND"]:
            self.start()
            self._wake.set()

    def run(self) -> None:
        """Sweep until stopped: on each wake-up, and every poll interval for retries."""
        poll = self.app.config["DISPATCH_POLL_SECONDS"]
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("dispatch sweep failed")
            self._wake.wait(poll)
            self._wake.clear()

    def stop(self, timeout: float = 15) -> None:
        """Stop sweeping and wait for sends under way (each is bounded by its timeouts)."""
        self._stop.set()
        self._wake.set()
        thread, pool = self._thread, self._pool
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if pool is not None and self._pid == os.getpid():
            pool.shutdown(wait=True)
        with self._lock:
            self._pool = self._thread = None

    # --- one round ------------------------------------------------------------------------

    def sweep(self) -> list:
        """Settle claims of stopped senders, then start one sender per station with due jobs;
        read the event feed on into webhook deliveries and start one sender per subscription
        with due deliveries; once an hour, prune events past their retention."""
        pool = self._ensure_pool()
        with self.app.app_context():
            try:
                now = utcnow()
                dispatch.resolve_stale(now=now)
                try:
                    station_health.hand_over_unwatched(now=now)
                except Exception:  # sending must go on whatever happens here
                    log.exception("handing over the work of unwatched stations failed")
                    db.session.rollback()
                due = dispatch.due_jobs(now=now, skip_stations=set(self._busy))
                hooks = self._webhook_round(now)
            finally:
                db.session.remove()
        by_station = defaultdict(list)
        for job_id, station_id in due:
            by_station[station_id].append(job_id)
        for delivery_id, subscription_id in hooks:
            by_station[(HOOK, subscription_id)].append(delivery_id)
        futures = []
        for station_id, job_ids in by_station.items():
            with self._lock:
                if station_id in self._busy:
                    continue
                self._busy.add(station_id)
            futures.append(pool.submit(self._send_station, station_id, job_ids))
        return futures

    def _webhook_round(self, now) -> list[tuple[int, int]]:
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            events.prune_events(now=now)
        self.has_subscriptions = webhooks.any_active()
        if not self.has_subscriptions:
            return []
        webhooks.resolve_stale(now=now)
        webhooks.queue_deliveries()
        busy = {key[1] for key in set(self._busy) if isinstance(key, tuple)}
        return webhooks.due_deliveries(now=now, skip_subscriptions=busy)

    def drain(self, timeout: float = 30) -> None:
        """Sweep until no job is queued or being sent here: for tests and `flask dispatch
        --once`. Jobs waiting out a back-off are waited for."""
        deadline = time.monotonic() + timeout
        while True:
            wait(self.sweep())
            with self.app.app_context():
                try:
                    pending = dispatch.pending_count() + webhooks.pending_count()
                finally:
                    db.session.remove()
            if not pending and not self._busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pending} dispatch jobs still pending")
            time.sleep(min(self.app.config["DISPATCH_POLL_SECONDS"], 0.05))

    def _send_station(self, station_id, job_ids: list[int]) -> None:
        """Send one station's jobs, or (`station_id` is (HOOK, id)) one subscription's
        deliveries, one after another."""
        send = self.send_delivery if isinstance(station_id, tuple) else self.send_job
        try:
            for job_id in job_ids:
                if self._stop.is_set():
                    break
                send(job_id)
        except Exception:
            log.exception("dispatch to station %s failed", station_id)
        finally:
            with self._lock:
                self._busy.discard(station_id)
            self._wake.set()  # more may have come due for this station meanwhile

    def send_job(self, job_id: int) -> bool:
        """Claim, send and record one job; False if another sender had it."""
        config = self.app.config
        with self.app.app_context():
            try:
                claimed = dispatch.claim(job_id, now=utcnow(),
                                         lease_seconds=config["DISPATCH_LEASE_SECONDS"])
                if claimed is None:
                    return False
                try:
                    payload, problem = build(claimed), None
                except Exception as error:  # nothing was sent: a plain failure, not a doubt
                    log.exception("could not build dispatch job %s", job_id)
                    payload, problem = None, f"could not build it: {error}"[:200]
            finally:
                db.session.remove()
        started, clock = utcnow(), time.monotonic()
        if payload is None:
            ok, code, error = False, None, problem
        else:
            attempt = send(claimed, payload, config)
            ok, code, error = attempt.ok, attempt.status_code, attempt.error
        duration = int((time.monotonic() - clock) * 1000)
        with self.app.app_context():
            try:
                dispatch.record(claimed, ok=ok, status_code=code, error=error,
                                started_at=started, duration_ms=duration,
                                max_attempts=config["DISPATCH_MAX_ATTEMPTS"],
                                retry_seconds=config["DISPATCH_RETRY_SECONDS"])
                if not ok:
                    # Failing now? Its backup takes what it has not sent.
                    station_health.hand_over(claimed.station_name)
            finally:
                db.session.remove()
        return True


    def send_delivery(self, delivery_id: int) -> bool:
        """Claim, send and record one webhook delivery; False if it could not be claimed."""
        config = self.app.config
        with self.app.app_context():
            try:
                claimed = webhooks.claim_delivery(
                    delivery_id, now=utcnow(), lease_seconds=config["DISPATCH_LEASE_SECONDS"])
            finally:
                db.session.remove()
        if claimed is None:
            return False
        started = utcnow()
        if claimed.body is None:
            attempt = senders.Attempt(ok=False, status_code=None, duration_ms=0,
                                      error="the event is no longer kept")
        else:
            try:
                secret = encryption.decrypt(claimed.encrypted_secret,
                                            config["SECRET_ENCRYPTION_KEYS"])
            except (encryption.KeysMissing, encryption.Undecryptable) as error:
                attempt = senders.Attempt(ok=False, status_code=None, duration_ms=0,
                                          error=f"could not sign it: {error}"[:200])
            else:
                attempt = senders.post_webhook(
                    claimed.url, claimed.body, secret=secret,
                    headers=payloads.event_headers(claimed),
                    timeout=config["DISPATCH_CONNECT_TIMEOUT"] + config["DISPATCH_SEND_TIMEOUT"])
        with self.app.app_context():
            try:
                webhooks.record_delivery(claimed, ok=attempt.ok,
                                         status_code=attempt.status_code, error=attempt.error,
                                         started_at=started)
            finally:
                db.session.remove()
        return True


def build(claimed: dispatch.Claimed) -> bytes:
    if claimed.station_type == "printer":
        return payloads.slip_for(claimed)
    return payloads.webhook_body(claimed)


def send(claimed: dispatch.Claimed, payload: bytes, config) -> senders.Attempt:
    if claimed.station_type == "printer":
        return senders.send_to_printer(
            claimed.address or "", payload, connect_timeout=config["DISPATCH_CONNECT_TIMEOUT"],
            send_timeout=config["DISPATCH_SEND_TIMEOUT"])
    try:
        secret = signing_secret(claimed, config["SECRET_ENCRYPTION_KEYS"])
    except (encryption.KeysMissing, encryption.Undecryptable) as error:
        # Nothing was sent: a plain failure the history shows, retried like any other.
        return senders.Attempt(ok=False, status_code=None, duration_ms=0,
                               error=f"could not sign it: {error}"[:200])
    return senders.post_webhook(
        claimed.address or "", payload, secret=secret,
        headers=payloads.webhook_headers(claimed),
        timeout=config["DISPATCH_CONNECT_TIMEOUT"] + config["DISPATCH_SEND_TIMEOUT"])


def signing_secret(claimed: dispatch.Claimed, keys) -> str:
    """The station's secret in clear, for this one signature; it is kept only encrypted."""
    if claimed.encrypted_secret is not None:
        return encryption.decrypt(claimed.encrypted_secret, keys)
    return claimed.plain_secret or ""


def dispatcher_for(app: Flask) -> Dispatcher:
    return app.extensions["dispatcher"]


def init_app(app: Flask) -> None:
    app.extensions["dispatcher"] = Dispatcher(app)

    @app.before_request
    def _start_sender():
        # Retries and jobs left by a stopped process go out without waiting for new orders.
        if app.config["DISPATCH_IN_BACKGROUND"]:
            dispatcher = dispatcher_for(app)
            if dispatcher._thread is None or dispatcher._pid != os.getpid():
                dispatcher.start()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session) -> None:
    wake = session.info.pop(dispatch.WAKE, False)
    wrote_events = session.info.pop(events.WRITTEN, False)
    if not has_app_context():
        return
    dispatcher = dispatcher_for(current_app)
    # New events matter to the sender only when some subscription may want them.
    if wake or (wrote_events and dispatcher.has_subscriptions):
        dispatcher.wake()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session) -> None:
    session.info.pop(dispatch.WAKE, None)
    session.info.pop(events.WRITTEN, None)
