"""Kiosk links: a secret URL that signs a wall screen in to one station's screen (or the
expo's) without a person's password. Only hashes of the secrets are kept."""
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.core import rights as R
from app.core.errors import FieldError, Forbidden, Invalid, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Station, utcnow
from app.models.kiosk import KioskLink
from app.services.users import hash_secret

# The expo screen's scope. Station names never contain '/', so no station can pass for it.
EXPO = "/expo"
LINK_PREFIX = "kio_"


@dataclass(frozen=True)
class KioskActor:
    """A screen signed in with a kiosk link. It carries just the rights a station needs, so the
    status services treat it like a user; the scope check below keeps it on its own screen."""
    link_id: int
    link_name: str
    target: str  # a station name, or EXPO
    rights: tuple = (R.ORDER_READ, R.ORDER_UPDATE)
    id = None

    @property
    def user_name(self) -> str:
        return f"kiosk {self.link_name}"[:80]


def get_kiosk_actor(link_id) -> KioskActor | None:
    """The actor for a live kiosk link; None once it is revoked or gone (checked every request,
    so revoking stops a screen at its next poll)."""
    try:
        link_id = int(link_id)
    except (TypeError, ValueError):
        return None
    # populate_existing: a link already in this session may have been revoked since.
    link = db.session.scalar(select(KioskLink).where(KioskLink.id == link_id)
                             .execution_options(populate_existing=True))
    if link is None or link.revoked_at is not None:
        return None
    if link.is_expo:
        # The expo fires courses (app.services.courses), which needs orderProcess.
        return KioskActor(link_id=link.id, link_name=link.name, target=EXPO,
                          rights=(R.ORDER_READ, R.ORDER_UPDATE, R.ORDER_PROCESS))
    return KioskActor(link_id=link.id, link_name=link.name, target=link.station.name)


def _require_admin(user) -> None:
    if isinstance(user, KioskActor) or user is None or R.ADMIN not in user.rights:
        raise Forbidden("Kiosk links are managed by administrators.")


def list_kiosk_links(*, user) -> list[KioskLink]:
    _require_admin(user)
    return list(db.session.scalars(select(KioskLink)
                                   .order_by(KioskLink.created_at.desc(), KioskLink.id.desc())))


def create_kiosk_link(*, user, station_name: str | None, name: str) -> tuple[KioskLink, str]:
    """A new link for one station's screen (or the expo's, with no station). The secret is
    returned once; only its hash is kept. Raises Forbidden, Invalid."""
    _require_admin(user)
    name = (name or "").strip()
    errors = []
    if not name or len(name) > 60:
        errors.append(FieldError("name", "A name of 1 to 60 characters is required "
                                         "(say where the screen hangs)."))
    station = None
    if station_name:
        station = db.session.scalar(select(Station).where(Station.name == station_name))
        if station is None:
            errors.append(FieldError("target", f"No station named {station_name!r}."))
    if errors:
        raise Invalid(errors)
    secret = LINK_PREFIX + secrets.token_urlsafe(32)
    with write_transaction() as session:
        link = KioskLink(station_id=station.id if station else None, name=name,
                         token_hash=hash_secret(secret), created_by=user.user_name,
                         created_at=utcnow())
        session.add(link)
        session.flush()
        session.refresh(link)  # loads the station for the caller's display
    return link, secret


def revoke_kiosk_link(*, user, link_id: int) -> KioskLink:
    """Stop a link: its screens are refused from their next request. Raises Forbidden,
    NotFound."""
    _require_admin(user)
    with write_transaction() as session:
        # of=: PostgreSQL cannot lock the outer-joined station row, and need not.
        link = session.scalar(select(KioskLink).where(KioskLink.id == link_id)
                              .with_for_update(of=KioskLink))
        if link is None:
            raise NotFound("No such kiosk link.")
        if link.revoked_at is None:
            link.revoked_at = utcnow()
    return link


def open_kiosk_link(*, secret: str) -> KioskLink:
    """The live link a secret belongs to. Raises Forbidden for an unknown or revoked one."""
    link = None
    if isinstance(secret, str) and secret.startswith(LINK_PREFIX):
        link = db.session.scalar(select(KioskLink)
                                 .where(KioskLink.token_hash == hash_secret(secret)))
    if link is None or link.revoked_at is not None:
        raise Forbidden("This kiosk link is not valid: it was revoked or mistyped. Ask an "
                        "administrator for a new one.")
    return link
