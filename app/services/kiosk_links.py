"""Kiosk links: a secret URL that signs a wall screen in to one station's screen (or the
expo's), or to one ready board, without a person's password. Only hashes of the secrets are
kept.

This is the one place of a link's liveness and scope: which screen a link's browser is the
actor on (screen_actor), and who may look at which screen (require_screen). A station or expo
link views and bumps its screen; a board link shows its board and nothing else: everywhere
else its browser is as anonymous as any visitor's.
"""
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.core import rights as R
from app.core.errors import FieldError, Forbidden, Invalid, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import DEFAULT_BOARD, ReadyBoard, Station, utcnow
from app.models.kiosk import KioskLink
from app.services.users import hash_secret

# The expo screen's scope. Station names never contain '/', so no station can pass for it.
EXPO = "/expo"
# A board's scope is its address: /board for the default board, /board/<name> for the others.
BOARD = "/board"
LINK_PREFIX = "kio_"
REVOKED = "This screen's kiosk link was revoked. Ask an administrator for a new one."


def board_scope(board_name: str) -> str:
    return BOARD if board_name == DEFAULT_BOARD else f"{BOARD}/{board_name}"


def is_board_scope(target: str) -> bool:
    return target == BOARD or target.startswith(BOARD + "/")


@dataclass(frozen=True)
class KioskActor:
    """A screen signed in with a kiosk link. A station's carries just the rights a station
    needs, so the status services treat it like a user; a board's carries none. The scope
    checks below keep either on its own screen."""
    link_id: int
    link_name: str
    target: str  # a station name, EXPO, or a board's scope
    rights: tuple = (R.ORDER_READ, R.ORDER_UPDATE)
    id = None

    @property
    def user_name(self) -> str:
        return f"kiosk {self.link_name}"[:80]

    @property
    def is_board(self) -> bool:
        return is_board_scope(self.target)

    @property
    def board_name(self) -> str | None:
        """The board a board link shows (DEFAULT_BOARD for /board); None for other links."""
        if not self.is_board:
            return None
        return self.target[len(BOARD) + 1:]


def _load(link_id) -> KioskLink | None:
    try:
        link_id = int(link_id)
    except (TypeError, ValueError):
        return None
    # populate_existing: a link already in this session may have been revoked since.
    return db.session.scalar(select(KioskLink).where(KioskLink.id == link_id)
                             .execution_options(populate_existing=True))


def _actor(link: KioskLink) -> KioskActor:
    if link.is_board:
        return KioskActor(link_id=link.id, link_name=link.name,
                          target=board_scope(link.board.name), rights=())
    if link.is_expo:
        # The expo fires courses (app.services.courses), which needs orderProcess.
        return KioskActor(link_id=link.id, link_name=link.name, target=EXPO,
                          rights=(R.ORDER_READ, R.ORDER_UPDATE, R.ORDER_PROCESS))
    return KioskActor(link_id=link.id, link_name=link.name, target=link.station.name)


def get_kiosk_actor(link_id) -> KioskActor | None:
    """The actor for a live kiosk link; None once it is revoked or gone (checked every request,
    so revoking stops a screen at its next poll)."""
    link = _load(link_id)
    if link is None or link.revoked_at is not None:
        return None
    return _actor(link)


def screen_actor(link_id, *, board: str | None = None) -> KioskActor | None:
    """What the browser a kiosk link signed in is on a screen page: `board` None for the
    station and expo screens, else the scope of the board asked for.

    A station or expo link is the actor on the station and expo screens (require_screen then
    keeps it on its own); a board link on its own board only. Where a link does not reach, the
    answer is None: the browser is anonymous there, as on every page outside the screens.
    Raises Forbidden where the link would reach but was revoked (or is gone)."""
    link = _load(link_id)
    if link is None:
        raise Forbidden(REVOKED)
    actor = _actor(link)
    reaches = actor.target == board if board is not None else not actor.is_board
    if not reaches:
        return None
    if link.revoked_at is not None:
        raise Forbidden(REVOKED)
    return actor


def require_screen(viewer, target: str) -> None:
    """May `viewer` look at the screen of `target` (a station name, EXPO, or a board's scope)?
    Raises Forbidden: a kiosk link sees its own screen only; a person needs a right that sees
    every order."""
    if isinstance(viewer, KioskActor):
        if viewer.target != target:
            screen = {EXPO: "the expo screen"}.get(viewer.target, viewer.target)
            raise Forbidden(f"This screen's kiosk link is for {screen} only.")
        return
    if viewer is None or not R.sees_all_orders(viewer.rights):
        raise Forbidden("Kiosk screens and ready boards need the orderRead right.")


def _require_admin(user) -> None:
    if isinstance(user, KioskActor) or user is None or R.ADMIN not in user.rights:
        raise Forbidden("Kiosk links are managed by administrators.")


def list_kiosk_links(*, user, board_id: int | None = None) -> list[KioskLink]:
    """Every link, newest first; with `board_id`, that board's only."""
    _require_admin(user)
    query = select(KioskLink).order_by(KioskLink.created_at.desc(), KioskLink.id.desc())
    if board_id is not None:
        query = query.where(KioskLink.board_id == board_id)
    return list(db.session.scalars(query))


def create_kiosk_link(*, user, station_name: str | None, name: str,
                      board_name: str | None = None) -> tuple[KioskLink, str]:
    """A new link for one station's screen (or the expo's, with no station), or with
    `board_name` for that ready board (DEFAULT_BOARD: /board, whose record is made the first
    time it is needed). The secret is returned once; only its hash is kept. Raises Forbidden,
    Invalid, NotFound (no such board)."""
    _require_admin(user)
    name = (name or "").strip()
    errors = []
    if not name or len(name) > 60:
        errors.append(FieldError("name", "A name of 1 to 60 characters is required "
                                         "(say where the screen hangs)."))
    station = None
    if station_name and board_name is None:
        station = db.session.scalar(select(Station).where(Station.name == station_name))
        if station is None:
            errors.append(FieldError("target", f"No station named {station_name!r}."))
    if errors:
        raise Invalid(errors)
    secret = LINK_PREFIX + secrets.token_urlsafe(32)
    with write_transaction() as session:
        board = None
        if board_name is not None:
            board = session.scalar(select(ReadyBoard).where(ReadyBoard.name == board_name))
            if board is None and board_name == DEFAULT_BOARD:
                board = ReadyBoard.default()
                session.add(board)
                session.flush()
            elif board is None:
                raise NotFound(f"No ready board named {board_name!r}.")
        link = KioskLink(station_id=station.id if station else None,
                         board_id=board.id if board else None, name=name,
                         token_hash=hash_secret(secret), created_by=user.user_name,
                         created_at=utcnow())
        session.add(link)
        session.flush()
        session.refresh(link)  # loads the station or board for the caller's display
    return link, secret


def revoke_kiosk_link(*, user, link_id: int) -> KioskLink:
    """Stop a link: its screens are refused from their next request. Raises Forbidden,
    NotFound."""
    _require_admin(user)
    with write_transaction() as session:
        # of=: PostgreSQL cannot lock the outer-joined station or board row, and need not.
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
