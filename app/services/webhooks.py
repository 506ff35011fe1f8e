"""Webhook subscriptions (contract 8): integrators' endpoints that receive the event feed.

Nothing here runs in a request's transaction but the subscription's own writes and a
redelivery: the dispatch sender (app.dispatch.worker) reads the feed on for each active
subscription, turning each new event of its types into a delivery row (`queue_deliveries`,
under the subscription's row lock, so two processes never queue one event twice), then claims
due deliveries one by one (a conditional update, as dispatch jobs are claimed) and records what
came of each. Deliveries are at least once: a sender that stopped mid-send leaves its claim to
run out, and the delivery goes again under the same delivery id, which receivers dedupe on.
Per order they go in sequence order: a delivery waits while an earlier one of the same order
to the same subscription is still pending or being sent. A failed attempt is tried again after
WEBHOOK_RETRY_SECONDS, doubling up to WEBHOOK_RETRY_MAX_SECONDS, until WEBHOOK_RETRY_HOURS
have passed since the delivery's first attempt; then it is failed, and a person may redeliver.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from app.core import encryption
from app.core import event_types as T
from app.core.errors import Conflict, FieldError, Invalid, NotFound
from app.db.transactions import write_transaction
from app.dispatch.senders import check_webhook_url
from app.extensions import db
from app.models import Counter, new_guid, utcnow
from app.models.events import (
    DELIVERED,
    FAILED,
    PENDING,
    SENDING,
    Event,
    WebhookDelivery,
    WebhookSubscription,
)
from app.services import events
from app.services.common import check_version

WAKE = "dispatch_wake"  # app.services.dispatch.WAKE: wake the sender after the commit
SECRET_MIN = 16
ID_MAX = 2**31 - 1
QUEUE_BATCH = 500
LOG_LENGTH = 100


def _validate(url: str, event_types, secret: str | None, *, keeps_secret: bool) -> list:
    errors = []
    problem = check_webhook_url(url or "")
    if problem:
        errors.append(FieldError("url", problem))
    elif len(url) > 2000:
        errors.append(FieldError("url", "A URL has at most 2000 characters."))
    if not event_types:
        errors.append(FieldError("eventTypes", "Name at least one event type: "
                                               + ", ".join(T.ALL) + "."))
    for name in event_types or ():
        if T.canonical(name) is None:
            errors.append(FieldError("eventTypes", f"{str(name)[:40]!r} is not an event type; "
                                                   "use " + ", ".join(T.ALL) + "."))
    if secret is not None and not SECRET_MIN <= len(secret) <= 255:
        errors.append(FieldError("secret", f"A secret has {SECRET_MIN} to 255 characters."))
    elif secret is None and not keeps_secret:
        errors.append(FieldError("secret", f"A subscription needs a secret of at least "
                                           f"{SECRET_MIN} characters: deliveries are signed "
                                           "with it."))
    return errors


def _encrypt(secret: str) -> str:
    try:
        return encryption.encrypt(secret, current_app.config["SECRET_ENCRYPTION_KEYS"])
    except encryption.KeysMissing:
        raise Conflict(encryption.MISSING, member_name="secret") from None


def _types(names) -> list[str]:
    return list(dict.fromkeys(T.canonical(n) for n in names))


def list_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def _id_in_range(subscription_id: int) -> None:
    # Ids are 32-bit integers on PostgreSQL: a larger one is no subscription, not an error.
    if not 0 < subscription_id <= ID_MAX:
        raise NotFound("No such webhook subscription.")


def get_subscription(subscription_id: int) -> WebhookSubscription:
    _id_in_range(subscription_id)
    found = db.session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound("No such webhook subscription.")
    return found


def _current_sequence(session) -> int:
    return session.scalar(select(Counter.value).where(Counter.name == events.COUNTER)) or 0


def create_subscription(*, url: str, event_types: list[str], secret: str | None,
                        is_active: bool = True) -> WebhookSubscription:
    """A new subscription; it receives the events from now on. Raises Invalid, Conflict (no
    encryption key)."""
    errors = _validate(url, event_types, secret, keeps_secret=False)
    if errors:
        raise Invalid(errors)
    with write_transaction() as session:
        subscription = WebhookSubscription(
            url=url, event_types=_types(event_types), encrypted_secret=_encrypt(secret),
            is_active=is_active, last_sequence=_current_sequence(session), version=1,
            created_at=utcnow())
        session.add(subscription)
        session.info[WAKE] = True  # the sender learns there is a subscription to serve
    return subscription


def update_subscription(subscription_id: int, *, url: str, event_types: list[str],
                        is_active: bool, secret: str | None = None,
                        version: int | None = None) -> WebhookSubscription:
    """Replace the subscription's fields; the secret is kept when none is given (write-only).
    Raises NotFound, Invalid, VersionMismatch, Conflict."""
    errors = _validate(url, event_types, secret, keeps_secret=True)
    if errors:
        raise Invalid(errors)
    with write_transaction() as session:
        subscription = _locked(session, subscription_id)
        check_version(subscription.version, version)
        subscription.url, subscription.event_types = url, _types(event_types)
        subscription.is_active = is_active
        if secret is not None:
            subscription.encrypted_secret = _encrypt(secret)
        subscription.version += 1
    return subscription


def delete_subscription(subscription_id: int, *, version: int | None = None) -> None:
    with write_transaction() as session:
        subscription = _locked(session, subscription_id)
        check_version(subscription.version, version)
        session.delete(subscription)


def _locked(session, subscription_id: int) -> WebhookSubscription:
    _id_in_range(subscription_id)
    found = session.scalar(select(WebhookSubscription)
                           .where(WebhookSubscription.id == subscription_id)
                           .with_for_update())
    if found is None:
        raise NotFound("No such webhook subscription.")
    return found


def list_deliveries(subscription_id: int, *, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    """The subscription's delivery log, newest first."""
    get_subscription(subscription_id)
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


def redeliver(*, subscription_id: int, delivery_id: str, user_name: str | None
              ) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery (a new delivery id, so a receiver that
    dedupes takes it). Raises NotFound, Conflict when the event is no longer kept."""
    with write_transaction() as session:
        subscription = _locked(session, subscription_id)
        original = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.delivery_id == str(delivery_id)))
        if original is None:
            raise NotFound("The subscription has no such delivery.")
        if session.get(Event, original.sequence) is None:
            raise Conflict("The event is older than the feed keeps "
                           f"({current_app.config['EVENT_RETENTION_DAYS']:g} days); it cannot "
                           "be delivered again.")
        now = utcnow()
        again = WebhookDelivery(
            subscription_id=subscription.id, sequence=original.sequence,
            order_id=original.order_id, event_type=original.event_type,
            delivery_id=new_guid(), redelivery_of=original.delivery_id, state=PENDING,
            attempts=0, next_try_at=now, requested_by=user_name, created_at=now)
        session.add(again)
        session.info[WAKE] = True
    return again


# --- the sender's side (app.dispatch.worker) -----------------------------------------------

def queue_deliveries() -> int:
    """Read the feed on for every active subscription that is behind it: a delivery for each
    new event of its types. Returns how many were queued."""
    current = _current_sequence(db.session)
    behind = list(db.session.scalars(select(WebhookSubscription.id).where(
        WebhookSubscription.is_active.is_(True),
        WebhookSubscription.last_sequence < current)))
    db.session.rollback()  # the snapshot read above must not pin the write below
    queued = 0
    for subscription_id in behind:
        with write_transaction() as session:
            subscription = session.scalar(select(WebhookSubscription).where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.is_active.is_(True)).with_for_update())
            if subscription is None:
                continue
            # Sequences are gap-free in commit order: every event up to the last one seen
            # is committed, so the cursor may move past all of them.
            found = session.execute(
                select(Event.sequence, Event.order_id, Event.type)
                .where(Event.sequence > subscription.last_sequence)
                .order_by(Event.sequence).limit(QUEUE_BATCH)).all()
            if not found:
                continue
            now = utcnow()
            wanted = set(subscription.event_types)
            rows = [{"subscription_id": subscription.id, "sequence": sequence,
                     "order_id": order_id, "event_type": type_, "delivery_id": new_guid(),
                     "state": PENDING, "attempts": 0, "next_try_at": now, "created_at": now}
                    for sequence, order_id, type_ in found if type_ in wanted]
            if rows:
                session.execute(WebhookDelivery.__table__.insert(), rows)
            subscription.last_sequence = found[-1].sequence
            queued += len(rows)
    return queued


def _no_earlier_pending(delivery):
    """No delivery of the same order to the same subscription with a lower sequence (or the
    same, made earlier) is still pending or being sent."""
    earlier = aliased(WebhookDelivery)
    return ~exists().where(
        earlier.subscription_id == delivery.subscription_id,
        earlier.order_id == delivery.order_id,
        earlier.state.in_((PENDING, SENDING)),
        or_(earlier.sequence < delivery.sequence,
            and_(earlier.sequence == delivery.sequence, earlier.id < delivery.id)))


def due_deliveries(*, now: datetime, limit: int = 100, skip_subscriptions=()
                   ) -> list[tuple[int, int]]:
    """(delivery id, subscription id) of the deliveries that may go now, in sequence order."""
    statement = (
        select(WebhookDelivery.id, WebhookDelivery.subscription_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_try_at <= now,
               WebhookSubscription.is_active.is_(True), _no_earlier_pending(WebhookDelivery))
        .order_by(WebhookDelivery.sequence, WebhookDelivery.id).limit(limit))
    if skip_subscriptions:
        statement = statement.where(
            WebhookDelivery.subscription_id.not_in(list(skip_subscriptions)))
    return [(row.id, row.subscription_id) for row in db.session.execute(statement)]


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    claim_id: str
    delivery_id: str
    attempt: int
    sequence: int
    event_type: str
    url: str
    encrypted_secret: str
    body: bytes | None  # None when the event is no longer kept


def claim_delivery(delivery_id: int, *, now: datetime, lease_seconds: float
                   ) -> ClaimedDelivery | None:
    """Take a due delivery for sending, with its signed body's makings; None if another sender
    took it first or it may not go now."""
    claim_id = new_guid()
    with write_transaction() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == PENDING,
                   WebhookDelivery.next_try_at <= now, _no_earlier_pending(WebhookDelivery))
            .values(state=SENDING, claim_id=claim_id, attempts=WebhookDelivery.attempts + 1,
                    claimed_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        subscription = delivery.subscription
        event = session.get(Event, delivery.sequence)
        return ClaimedDelivery(
            id=delivery.id, claim_id=claim_id, delivery_id=delivery.delivery_id,
            attempt=delivery.attempts, sequence=delivery.sequence,
            event_type=delivery.event_type, url=subscription.url,
            encrypted_secret=subscription.encrypted_secret,
            body=None if event is None else event_body(event))


def event_body(event: Event) -> bytes:
    """The event as the feed serves it (GET /api/events), as the bytes to sign and post."""
    from app.api.serializers import event_json  # the one shape of an event

    json = current_app.json
    return json.dumps(event_json(event, json.loads(event.order_document))).encode()


def record_delivery(claimed: ClaimedDelivery, *, ok: bool, status_code: int | None,
                    error: str | None, started_at: datetime) -> None:
    """Settle the attempt, if the claim is still this delivery's: delivered, or pending again
    after its back-off, or failed once the retry period is over."""
    config = current_app.config
    with write_transaction() as session:
        delivery = session.scalar(select(WebhookDelivery)
                                  .where(WebhookDelivery.id == claimed.id).with_for_update())
        if delivery is None or delivery.claim_id != claimed.claim_id:
            return
        now = utcnow()
        delivery.claim_id = delivery.claimed_until = None
        delivery.last_try_at, delivery.last_status_code = started_at, status_code
        if ok:
            delivery.state, delivery.finished_at, delivery.last_error = DELIVERED, now, None
            delivery.next_try_at = None
            return
        delivery.last_error = (error or "failed")[:255]
        # A delivery is due from when it is queued: its first attempt follows at once.
        if now - delivery.created_at >= timedelta(hours=config["WEBHOOK_RETRY_HOURS"]):
            delivery.state, delivery.finished_at, delivery.next_try_at = FAILED, now, None
            return
        wait = min(config["WEBHOOK_RETRY_SECONDS"] * 2 ** (delivery.attempts - 1),
                   config["WEBHOOK_RETRY_MAX_SECONDS"])
        delivery.state, delivery.next_try_at = PENDING, now + timedelta(seconds=wait)


def resolve_stale(*, now: datetime) -> int:
    """Deliveries whose sender stopped mid-send go again (at least once: the receiver dedupes
    on the delivery id). Returns how many."""
    stale = select(WebhookDelivery.id).where(WebhookDelivery.state == SENDING,
                                             WebhookDelivery.claimed_until < now)
    if not db.session.scalar(select(exists(stale))):
        return 0  # the usual case: no write transaction (on SQLite, no write lock) for nothing
    with write_transaction() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.state == SENDING, WebhookDelivery.claimed_until < now)
            .values(state=PENDING, claim_id=None, claimed_until=None, next_try_at=now)
            .execution_options(synchronize_session=False))
    return result.rowcount or 0


def pending_count() -> int:
    """Deliveries still to make for active subscriptions, and events not yet queued for them."""
    waiting = db.session.scalar(
        select(func.count()).select_from(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.state.in_((PENDING, SENDING)),
               WebhookSubscription.is_active.is_(True))) or 0
    behind = db.session.scalar(
        select(func.count()).select_from(WebhookSubscription).where(
            WebhookSubscription.is_active.is_(True),
            WebhookSubscription.last_sequence < _current_sequence(db.session))) or 0
    return waiting + behind


def any_active() -> bool:
    return db.session.scalar(select(exists().where(WebhookSubscription.is_active.is_(True))))
