"""The one list of rights, and the checks built on it."""
ADMIN = "admin"
ORDER_READ = "orderRead"
ORDER_PROCESS = "orderProcess"
ORDER_UPDATE = "orderUpdate"
ORDER_DELETE = "orderDelete"
TICKET_CREATE = "ticketCreate"
TICKET_UPDATE = "ticketUpdate"

ALL = (ADMIN, ORDER_READ, ORDER_PROCESS, ORDER_UPDATE, ORDER_DELETE, TICKET_CREATE, TICKET_UPDATE)
_CANONICAL = {name.lower(): name for name in ALL}

# Any of these lets a user see every order; without them a user sees only their own.
ORDER_RIGHTS = frozenset({ADMIN, ORDER_READ, ORDER_PROCESS, ORDER_UPDATE, ORDER_DELETE})
TICKET_RIGHTS = frozenset({ADMIN, TICKET_CREATE, TICKET_UPDATE})


def canonical(name: str) -> str | None:
    """The canonical spelling of a right name matched case-insensitively, or None if unknown."""
    return _CANONICAL.get(name.strip().lower())


def has_right(rights, right: str) -> bool:
    rights = set(rights)
    return ADMIN in rights or right in rights


def sees_all_orders(rights) -> bool:
    return bool(ORDER_RIGHTS & set(rights))


# Staff hold at least one of these; a user with none is a customer, who sees their own orders
# as a customer does (number, items, totals, address, one status), not the floor's view.
STAFF_RIGHTS = ORDER_RIGHTS | TICKET_RIGHTS


def is_customer(rights) -> bool:
    return not STAFF_RIGHTS & set(rights)
