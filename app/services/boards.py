"""Ready boards: public screens of order numbers in two columns, Preparing and Ready.

A board shows numbers and, if its setting allows, a first name: nothing else of an order ever
leaves this module for a board (the rows read are the few columns named below). "Preparing":
orders with a live cell before Ready (status New or Processing); "Ready": every live cell Ready
(status Ready), for the board's minutes from when the order became Ready (`Order.ready_at`). A
Completed, Cancelled, void or deleted order is not shown.

`/board` is the default board: every order. It is a record like the others, so its settings are
kept the same way, but the record is made only when it is first changed or given a link; until
then it is ReadyBoard.default(). Who may look at a board is decided where every screen's is
(app.services.kiosk_links.require_screen).
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, false, func, select

from app.core import order_types as OT
from app.core import rights as R
from app.core import status as S
from app.core.errors import FieldError, Forbidden, Invalid, NotFound
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import DEFAULT_BOARD, ReadyBoard, Station, utcnow
from app.models.boards import DEFAULT_READY_MINUTES
from app.models.orders import Order, OrderEntry
from app.services import history
from app.services.common import check_version
from app.services.kiosk_links import KioskActor, board_scope, require_screen

NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
MAX_READY_MINUTES = 240
MAX_NUMBERS = 40  # per column; more would not be readable from afar, the rest are counted
FIRST_NAME_LENGTH = 16
PREPARING = (S.NEW, S.PROCESSING)
RESERVED = {"default"}  # the admin page of /board is /admin/boards/default


# --- which orders, and how a board names them ---------------------------------------------

def first_name(*, source: str, ticket_name: str | None, shipping_address: dict | None
               ) -> str | None:
    """The name a board may show beside a number: for a ticket, the first word of its name,
    unless the name holds a digit ("Table 4", "Bar 2": a place, not a person); for a web-shop
    order, the first word of its address's first name. At most 16 characters; None when
    there is none."""
    if source == "basket":
        text = str((shipping_address or {}).get("firstName") or "")
    else:
        text = ticket_name or ""
        if any(c.isdigit() for c in text):
            return None
    words = text.split()
    return words[0][:FIRST_NAME_LENGTH] if words else None


def _shown(board: ReadyBoard) -> list:
    """The conditions every order on the board meets: live, not void, and of its types and
    stations (an order routed to any of the board's stations)."""
    where = [Order.deleted_at.is_(None), Order.is_void == false()]
    if board.order_types:
        where.append(Order.order_type.in_(_types(board.order_types)))
    if board.stations:
        where.append(exists().where(OrderEntry.order_id == Order.id,
                                    OrderEntry.station_id.in_([s.id for s in board.stations])))
    return where


def _types(setting: str | None) -> tuple[str, ...]:
    return OT.station_types({OT.SETTING: setting} if setting else None)


# --- the screen ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    number: int
    first_name: str | None = None
    ready_at: datetime | None = None


@dataclass(frozen=True)
class Screen:
    board: ReadyBoard
    scope: str
    version: str  # the change counter, and when the next Ready number leaves (see _version)
    now: datetime
    preparing: list[Number] = field(default_factory=list)
    ready: list[Number] = field(default_factory=list)
    more_preparing: int = 0
    more_ready: int = 0


def _version(counter: int, leaves: datetime | None) -> str:
    """What a screen was drawn at: the change counter (any order change moves it, from any
    process) and the second the oldest Ready number on it leaves (0: none), since time alone
    takes a number off the board."""
    seconds = 0 if leaves is None else int((leaves - datetime(1970, 1, 1)).total_seconds()) + 1
    return f"{counter}.{seconds}"


def _unchanged(seen, counter: int, now: datetime) -> bool:
    drawn_at, _, leaves = str(seen or "").partition(".")
    if drawn_at != str(counter) or not leaves.isdigit():
        return False
    leaves = int(leaves)
    return leaves == 0 or (now - datetime(1970, 1, 1)).total_seconds() < leaves


def get_board(name: str) -> ReadyBoard:
    """The board at /board/<name> (DEFAULT_BOARD: /board, as stored or as it is by default).
    Names are lower case; one asked for in another case is the same board. Raises NotFound."""
    name = (name or "").strip().lower()
    board = db.session.scalar(select(ReadyBoard).where(ReadyBoard.name == name)
                              .execution_options(populate_existing=True))
    if board is None and name == DEFAULT_BOARD:
        return ReadyBoard.default()
    if board is None:
        raise NotFound(f"No ready board named {name!r}.")
    return board


def get_ready_board(*, viewer, name: str, seen_version=None) -> Screen | None:
    """The board's two columns; None when a screen drawn at `seen_version` would look the same
    (the live poll's answer, one counter row read after the access checks).

    Preparing: oldest number first. Ready: the most recently ready first. Raises Forbidden
    (a person without orderRead, or another board's link), NotFound."""
    board = get_board(name)
    scope = board_scope(board.name)
    require_screen(viewer, scope)
    counter, now = history.change_counter(), utcnow()
    if seen_version is not None and _unchanged(seen_version, counter, now):
        return None
    where = _shown(board)
    since = now - timedelta(minutes=board.ready_minutes)
    preparing_where = [*where, Order.status.in_(PREPARING)]
    ready_where = [*where, Order.status == S.READY, Order.ready_at > since]
    preparing = _numbers(board, preparing_where, (Order.number,))
    ready = _numbers(board, ready_where, (Order.ready_at.desc(), Order.number.desc()))
    leaves = min((n.ready_at for n in ready), default=None)
    return Screen(
        board=board, scope=scope, now=now,
        version=_version(counter, leaves and leaves + timedelta(minutes=board.ready_minutes)),
        preparing=preparing, ready=ready,
        more_preparing=_more(preparing, preparing_where), more_ready=_more(ready, ready_where))


def _numbers(board: ReadyBoard, where: list, order_by: tuple) -> list[Number]:
    # Only what the board may show is read: the names' columns only when it shows names.
    columns = [Order.number, Order.ready_at]
    if board.show_first_name:
        columns += [Order.source, Order.ticket_name, Order.shipping_address]
    rows = db.session.execute(select(*columns).where(*where).order_by(*order_by)
                              .limit(MAX_NUMBERS)).all()
    if not board.show_first_name:
        return [Number(number, None, ready_at) for number, ready_at in rows]
    return [Number(number, first_name(source=source, ticket_name=ticket,
                                      shipping_address=address), ready_at)
            for number, ready_at, source, ticket, address in rows]


def _more(shown: list, where: list) -> int:
    if len(shown) < MAX_NUMBERS:
        return 0
    return db.session.scalar(select(func.count()).select_from(Order).where(*where)) - len(shown)


# --- managing boards (admins) --------------------------------------------------------------

def _require_admin(user) -> None:
    if isinstance(user, KioskActor) or user is None or R.ADMIN not in user.rights:
        raise Forbidden("Ready boards are managed by administrators.")


def list_boards(*, user) -> list[ReadyBoard]:
    """The default board first, then the others by name."""
    _require_admin(user)
    boards = list(db.session.scalars(select(ReadyBoard).order_by(ReadyBoard.name)))
    if not boards or not boards[0].is_default:
        boards.insert(0, ReadyBoard.default())
    return boards


@dataclass(frozen=True)
class BoardFields:
    title: str
    station_names: list[str] = field(default_factory=list)
    order_types: list[str] = field(default_factory=list)
    show_first_name: bool = False
    chime: bool = True
    ready_minutes: int | None = DEFAULT_READY_MINUTES


def _checked(session, fields: BoardFields, *, is_default: bool, errors: list):
    """The title, stations and types setting the fields name; problems go to `errors`."""
    title = (fields.title or "").strip()
    if not title or len(title) > 60:
        errors.append(FieldError("title", "A title of 1 to 60 characters is required (it "
                                          "heads the screen)."))
    minutes = fields.ready_minutes
    if minutes is None or not 1 <= minutes <= MAX_READY_MINUTES:
        errors.append(FieldError("readyMinutes", "A Ready number stays 1 to "
                                                 f"{MAX_READY_MINUTES} minutes."))
    names = list(dict.fromkeys(n.strip() for n in fields.station_names or () if n.strip()))
    types = [OT.canonical(t) for t in fields.order_types or ()]
    if is_default and (names or types):
        errors.append(FieldError("stations", "The default board shows every order; make a "
                                             "named board to show some."))
    stations = list(session.scalars(select(Station).where(Station.name.in_(names)))) \
        if names else []
    unknown = sorted(set(names) - {s.name for s in stations})
    if unknown:
        errors.append(FieldError("stations", f"No station named {', '.join(unknown)}."))
    if None in types:
        bad = [t for t in fields.order_types if OT.canonical(t) is None]
        errors.append(FieldError("orderTypes", OT.unknown_message(bad[0])))
    return title, stations, OT.setting_value([t for t in types if t])


def _apply(board: ReadyBoard, fields: BoardFields, title, stations, types) -> None:
    board.title, board.stations, board.order_types = title, stations, types
    board.show_first_name, board.chime = bool(fields.show_first_name), bool(fields.chime)
    board.ready_minutes = fields.ready_minutes


def create_board(*, user, name: str, fields: BoardFields) -> ReadyBoard:
    """A new named board at /board/<name>. The name is its address and never changes: lower
    case letters, digits and '-'. Raises Forbidden, Invalid."""
    _require_admin(user)
    name = (name or "").strip().lower()
    errors = []
    if not NAME.fullmatch(name) or name in RESERVED:
        errors.append(FieldError("name", "A name of 1 to 40 lower case letters, digits and '-' "
                                         "is required; it is the board's address, "
                                         "/board/<name> (\"default\" is /board's own)."))
    with write_transaction() as session:
        checked = _checked(session, fields, is_default=False, errors=errors)
        if not errors and session.scalar(select(ReadyBoard.id).where(ReadyBoard.name == name)):
            errors.append(FieldError("name", f"A board named {name!r} exists already."))
        if errors:
            raise Invalid(errors)
        board = ReadyBoard(name=name, version=1, created_at=utcnow())
        _apply(board, fields, *checked)
        session.add(board)
    return board


def update_board(*, user, name: str, fields: BoardFields, version: int | None = None
                 ) -> ReadyBoard:
    """Change a board's title, filters and settings; every open screen of it redraws. The
    default board keeps showing every order. Raises Forbidden, NotFound, Invalid,
    VersionMismatch."""
    _require_admin(user)
    name = (name or "").strip().lower()
    with write_transaction() as session:
        board = session.scalar(select(ReadyBoard).where(ReadyBoard.name == name)
                               .with_for_update())
        if board is None and name == DEFAULT_BOARD:
            board = ReadyBoard.default()
            session.add(board)
        elif board is None:
            raise NotFound(f"No ready board named {name!r}.")
        check_version(board.version, version)
        errors = []
        checked = _checked(session, fields, is_default=board.is_default, errors=errors)
        if errors:
            raise Invalid(errors)
        _apply(board, fields, *checked)
        board.version += 1
        # Boards poll the change counter: moving it redraws the board's open screens.
        history.move_change_counter(session.connection())
    return board
