"""A person's own settings: the time zone pages show times in, and their home screen (where
"/" and signing in lead). Each user changes their own only."""
from dataclasses import dataclass

from sqlalchemy import select

from app.core import rights as R
from app.core.errors import FieldError, Invalid
from app.core.times import zone_named
from app.db.transactions import write_transaction
from app.models import User
from app.services.common import check_version
from app.services.stations import list_stations

ORDER_LIST = "orders"
EXPO = "expo"
STATION = "station:"  # followed by the station's name


@dataclass(frozen=True)
class HomeScreen:
    """A place a person can start at: `kind` is ORDER_LIST, EXPO or STATION; `station` names
    the station for STATION."""
    value: str
    label: str
    kind: str
    station: str | None = None


def home_screens(user) -> list[HomeScreen]:
    """The home screens `user` may choose: the order list for everyone; the station screens
    and the expo for those who may look at screens (a right that sees every order)."""
    choices = [HomeScreen(ORDER_LIST, "The order list", ORDER_LIST)]
    if R.sees_all_orders(user.rights):
        choices += [HomeScreen(STATION + s.name, f"The {s.name} screen", STATION, s.name)
                    for s in list_stations() if s.type == "display"]
        choices.append(HomeScreen(EXPO, "The expo screen", EXPO))
    return choices


def home_screen_of(user) -> HomeScreen:
    """Where `user` starts: their choice while it is still one of theirs (a station renamed,
    deleted or made a printer since, or a right taken away, leaves the order list)."""
    chosen = user.home_screen or ORDER_LIST
    if chosen == ORDER_LIST:
        return home_screens(user)[0]
    return next((h for h in home_screens(user) if h.value == chosen), home_screens(user)[0])


def update_settings(*, user, time_zone: str | None, home_screen: str | None,
                    version: int | None = None) -> User:
    """Save the user's own time zone (None or "": the site's) and home screen. The user's
    version moves, so every page drawn for them before (and its ETag) is stale. Raises Invalid
    naming each bad field, VersionMismatch for an older `version`."""
    errors = []
    time_zone = (time_zone or "").strip() or None
    if time_zone is not None and zone_named(time_zone) is None:
        errors.append(FieldError("timeZone", f"{time_zone!r} is not a time zone; choose one "
                                             "from the list, e.g. Europe/Amsterdam."))
    home_screen = (home_screen or "").strip() or ORDER_LIST
    if home_screen not in {h.value for h in home_screens(user)}:
        errors.append(FieldError("homeScreen", "Choose a home screen from the list."))
    if errors:
        raise Invalid(errors)
    with write_transaction() as session:
        target = session.scalar(select(User).where(User.id == user.id)
                               .with_for_update(key_share=True))
        check_version(target.version, version)
        target.time_zone = time_zone
        target.home_screen = None if home_screen == ORDER_LIST else home_screen
        target.version += 1
    return target
