"""Stations (the sources' order endpoints): where items are routed and dispatched.

A station's secret (a webhook's signing key) is write-only and kept encrypted under
SECRET_ENCRYPTION_KEYS (app.core.encryption); only the sender decrypts it, to sign a delivery.
"""
from flask import current_app
from sqlalchemy import exists, or_, select, update

from app.core import encryption, station_settings
from app.core import order_types as OT
from app.core.errors import Conflict, FieldError, Invalid, NotFound
from app.db.transactions import write_transaction
from app.dispatch.senders import check_webhook_url, parse_printer_address
from app.extensions import db
from app.models import Counter, ReadyBoard, Station, WebhookSubscription
from app.models.orders import Order, OrderEntry
from app.services.common import check_version
from app.services.history import STATIONS_VERSION
from app.services.processing import process_locked_order

TYPES = station_settings.STATION_TYPES
SECRET_MIN = 16


def _bump_stations_version(session) -> None:
    """Every change to any station moves the stations' version (app.services.history): order
    answers show their stations' names and isActive, so their ETags and cached texts carry it.
    A counter rather than the stations' own ids and versions: SQLite reuses the id of a
    deleted station, so those could repeat; the counter never goes back."""
    session.execute(update(Counter).where(Counter.name == STATIONS_VERSION)
                    .values(value=Counter.value + 1))


def list_stations() -> list[Station]:
    return list(db.session.scalars(select(Station).order_by(Station.name)))


def get_station(name: str) -> Station:
    station = db.session.scalar(select(Station).where(Station.name == name))
    if station is None:
        raise NotFound(f"No station named {name!r}.")
    return station


def _validate(name, type_, address, settings, secret, *, keeps_secret=False
              ) -> list[FieldError]:
    """Field errors; `secret` is a new secret or None, `keeps_secret` whether the station keeps
    a webhook secret it has already."""
    errors = []
    if not name or not name.strip() or len(name) > 80 or "/" in name:
        errors.append(FieldError("name", "A name of 1 to 80 characters without '/' is required."))
    if type_ not in TYPES:
        errors.append(FieldError("type", f"Unknown station type; use one of {', '.join(TYPES)}."))
    if address is not None and len(address) > 255:
        errors.append(FieldError("address", "An address has at most 255 characters."))
    elif type_ in ("printer", "webhook") and not (address or "").strip():
        errors.append(FieldError("address", f"A {type_} station needs an address."))
    elif type_ == "printer":
        try:
            parse_printer_address(address)
        except ValueError as error:
            errors.append(FieldError("address", str(error)))
    elif type_ == "webhook":
        problem = check_webhook_url(address)
        if problem:
            errors.append(FieldError("address", problem))
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in (settings or {}).items()):
        errors.append(FieldError("settings", "Settings map strings to strings."))
    else:
        errors += [FieldError(member, message)
                   for member, message in station_settings.check_settings(settings or {})]
    if secret is not None and len(secret) > 255:
        errors.append(FieldError("secret", "A secret has at most 255 characters."))
    elif type_ == "webhook" and (len(secret) < SECRET_MIN if secret is not None
                                 else not keeps_secret):
        errors.append(FieldError("secret", f"A webhook station needs a secret of at least "
                                           f"{SECRET_MIN} characters to sign its deliveries."))
    return errors


def _normal_settings(settings: dict | None) -> dict:
    """The settings as stored: `orderTypes` in the types' own spelling and order, and left out
    when it names every type (a station takes every type unless it says otherwise)."""
    settings = dict(settings or {})
    if OT.SETTING in settings:
        value = OT.setting_value(OT.parse_setting(settings[OT.SETTING])[0])
        if value is None:
            del settings[OT.SETTING]
        else:
            settings[OT.SETTING] = value
    return settings


def _encrypt(secret: str) -> str:
    try:
        return encryption.encrypt(secret, current_app.config["SECRET_ENCRYPTION_KEYS"])
    except encryption.KeysMissing:
        raise Conflict(encryption.MISSING, member_name="secret") from None


def _check_name_free(session, name: str, other_than: int | None = None) -> None:
    query = select(Station.id).where(Station.name == name)
    found = session.scalar(query)
    if found is not None and found != other_than:
        raise Conflict(f"A station named {name!r} exists already.", member_name="name")


def _backup_id(session, backup_name: str | None, name: str) -> int | None:
    """The id of the station named as backup; Invalid for an unknown one or the station
    itself."""
    if backup_name is None or not backup_name.strip():
        return None
    if backup_name.strip() == name.strip():
        raise Invalid([FieldError("backupStationName", "A station cannot be its own backup.")])
    found = session.scalar(select(Station.id).where(Station.name == backup_name.strip()))
    if found is None:
        raise Invalid([FieldError("backupStationName", f"No station named {backup_name!r}.")])
    return found


def _dispatch_waiting(session, station: Station) -> None:
    """A station switched on dispatches what waited for it: every live order with an
    undispatched entry there is processed, in this transaction (orders locked in id order).
    Where orders are processed by hand (AUTO_PROCESS off), only those already processed
    elsewhere waited for this station; the others wait for the person who processes them."""
    waiting = select(OrderEntry.order_id).where(OrderEntry.station_id == station.id,
                                                OrderEntry.processed_at.is_(None),
                                                OrderEntry.handed_to_id.is_(None))
    if not current_app.config.get("AUTO_PROCESS", True):
        processed = select(OrderEntry.order_id).where(OrderEntry.processed_at.is_not(None))
        waiting = waiting.where(OrderEntry.order_id.in_(processed))
    for order in session.scalars(select(Order).where(Order.id.in_(waiting),
                                                     Order.deleted_at.is_(None))
                                 .order_by(Order.id).with_for_update(key_share=True)):
        process_locked_order(order, user_name=None)


def create_station(*, name: str, type: str = "display", is_active: bool = True,
                   address: str | None = None, settings: dict | None = None,
                   secret: str | None = None, backup_station_name: str | None = None
                   ) -> Station:
    errors = _validate(name, type, address, settings, secret)
    if errors:
        raise Invalid(errors)
    encrypted = _encrypt(secret) if secret is not None else None
    with write_transaction() as session:
        _check_name_free(session, name.strip())
        station = Station(name=name.strip(), type=type, is_active=is_active, address=address,
                          settings=_normal_settings(settings), encrypted_secret=encrypted,
                          backup_station_id=_backup_id(session, backup_station_name, name),
                          version=1)
        session.add(station)
        _bump_stations_version(session)
    return station


def update_station(current_name: str, *, name: str, type: str, is_active: bool,
                   address: str | None, settings: dict | None, secret: str | None = None,
                   backup_station_name: str | None = None, version: int | None = None
                   ) -> Station:
    """Replace a station's fields. The secret is kept when none is given (it is write-only).
    A station switched on dispatches what waited for it."""
    with write_transaction() as session:
        station = session.scalar(
            select(Station).where(Station.name == current_name).with_for_update())
        if station is None:
            raise NotFound(f"No station named {current_name!r}.")
        # A webhook's kept secret was checked when it was set; one kept from another type of
        # station was not (and is stored encrypted, so its length is not read again): a station
        # that becomes a webhook is given its secret.
        keeps_secret = station.type == "webhook" and (
            station.encrypted_secret is not None or station.plain_secret is not None)
        errors = _validate(name, type, address, settings, secret, keeps_secret=keeps_secret)
        if errors:
            raise Invalid(errors)
        check_version(station.version, version)
        _check_name_free(session, name.strip(), other_than=station.id)
        station.backup_station_id = _backup_id(session, backup_station_name, name)
        switched_on = is_active and not station.is_active
        station.name, station.type, station.is_active = name.strip(), type, is_active
        station.address, station.settings = address, _normal_settings(settings)
        if secret is not None:
            station.encrypted_secret, station.plain_secret = _encrypt(secret), None
        station.version += 1
        _bump_stations_version(session)
        if switched_on:
            _dispatch_waiting(session, station)
    return station


def set_station_active(name: str, *, is_active: bool, version: int | None = None) -> Station:
    """Switch a station on or off, leaving its other fields as they are. Processing skips an
    inactive station; switched on, it dispatches what waited for it. Raises NotFound,
    VersionMismatch."""
    with write_transaction() as session:
        station = session.scalar(select(Station).where(Station.name == name).with_for_update())
        if station is None:
            raise NotFound(f"No station named {name!r}.")
        check_version(station.version, version)
        if station.is_active != bool(is_active):
            station.is_active = bool(is_active)
            station.version += 1
            _bump_stations_version(session)
            if station.is_active:
                _dispatch_waiting(session, station)
    return station


def delete_station(name: str, *, version: int | None = None) -> None:
    with write_transaction() as session:
        station = session.scalar(select(Station).where(Station.name == name).with_for_update())
        if station is None:
            raise NotFound(f"No station named {name!r}.")
        check_version(station.version, version)
        backs_up = session.scalar(select(Station.name).where(
            Station.backup_station_id == station.id).limit(1))
        if backs_up is not None:
            raise Conflict(f"{station.name} is the backup of {backs_up}; choose another backup "
                           "there first.", member_name="name")
        if session.scalar(select(exists().where(or_(OrderEntry.station_id == station.id,
                                                    OrderEntry.handed_to_id == station.id)))):
            raise Conflict("Orders were routed to this station; switch it off instead.",
                           member_name="name")
        board = session.scalar(select(ReadyBoard.title).join(ReadyBoard.stations)
                               .where(Station.id == station.id).limit(1))
        if board is not None:
            # Without it the board might name no station any more, and show every order.
            raise Conflict(f"The ready board {board} shows this station's orders; take the "
                           "station off the board first.", member_name="name")
        session.delete(station)
        _bump_stations_version(session)


def encrypt_station_secrets() -> int:
    """Encrypt every station's secret (and every webhook subscription's) under the first key of SECRET_ENCRYPTION_KEYS: those
    encrypted under an older key again, those saved in plain text before secrets were
    encrypted for the first time (`flask rotate-secrets`). One transaction: if any secret
    cannot be opened with the keys given, nothing changes. Returns how many were encrypted.

    Station versions do not move: a secret is part of no answer, and a form drawn before still
    keeps the secret when saved."""
    keys = current_app.config["SECRET_ENCRYPTION_KEYS"]
    with write_transaction() as session:
        stations = list(session.scalars(
            select(Station).where(or_(Station.encrypted_secret.is_not(None),
                                      Station.plain_secret.is_not(None)))
            .order_by(Station.id).with_for_update()))
        unreadable = []
        for station in stations:
            try:
                if station.encrypted_secret is not None:
                    station.encrypted_secret = encryption.reencrypt(station.encrypted_secret,
                                                                    keys)
                else:
                    station.encrypted_secret = encryption.encrypt(station.plain_secret, keys)
                station.plain_secret = None
            except encryption.KeysMissing:
                raise Conflict(encryption.MISSING, member_name="secret") from None
            except encryption.Undecryptable:
                unreadable.append(station.name)
        # Webhook subscriptions' secrets (app.services.webhooks) sign with the same keys.
        hooks = list(session.scalars(select(WebhookSubscription)
                                     .order_by(WebhookSubscription.id).with_for_update()))
        for hook in hooks:
            try:
                hook.encrypted_secret = encryption.reencrypt(hook.encrypted_secret, keys)
            except encryption.KeysMissing:
                raise Conflict(encryption.MISSING, member_name="secret") from None
            except encryption.Undecryptable:
                unreadable.append(f"the webhook {hook.url}")
        if unreadable:
            raise Conflict(f"No key in SECRET_ENCRYPTION_KEYS opens the secret of "
                           f"{', '.join(unreadable)}; nothing was changed.",
                           member_name="secret")
    return len(stations) + len(hooks)
