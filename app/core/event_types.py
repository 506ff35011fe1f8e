"""The types of the event feed (contract 8), in one place: the feed, webhook subscriptions, the
API's schemas and the admin pages read them from here."""
ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
ITEM_STATUS_CHANGED = "item.status_changed"
STATION_STATUS_CHANGED = "station.status_changed"
COURSE_FIRED = "course.fired"
ORDER_BUMPED = "order.bumped"
ORDER_RECALLED = "order.recalled"
ORDER_CANCELLED = "order.cancelled"
ORDER_COMPLETED = "order.completed"
ORDER_DELETED = "order.deleted"

ALL = (ORDER_CREATED, ORDER_STATUS_CHANGED, ITEM_STATUS_CHANGED, STATION_STATUS_CHANGED,
       COURSE_FIRED, ORDER_BUMPED, ORDER_RECALLED, ORDER_CANCELLED, ORDER_COMPLETED,
       ORDER_DELETED)

# A status change is an event of the level it was made at; a kiosk's tap on one item at its
# station changes that item.
STATUS_CHANGED = {"order": ORDER_STATUS_CHANGED, "item": ITEM_STATUS_CHANGED,
                  "cell": ITEM_STATUS_CHANGED, "station": STATION_STATUS_CHANGED}


def canonical(name: str) -> str | None:
    """The type of that name, ignoring case; None for an unknown one."""
    return {t.lower(): t for t in ALL}.get(str(name).strip().lower())
