"""The tables, one module per part of the domain; every model is importable from here.

Derived statuses are computed in app.core.status; the order's own status is stored as well (kept
in step by the services) so lists can filter and sort on it in SQL."""
from app.models.accounts import ApiKey, Device, Token, User, rights_of  # noqa: F401
from app.models.baskets import Basket, BasketLine, Project  # noqa: F401
from app.models.boards import DEFAULT_BOARD, ReadyBoard, ready_board_stations  # noqa: F401
from app.models.catalog import (  # noqa: F401
    Counter,
    Product,
    Station,
    StationScreen,
    product_stations,
)
from app.models.columns import MONEY, QUANTITY, new_guid, new_ordered_guid, utcnow  # noqa: F401
from app.models.dispatch import Delivery, DispatchJob  # noqa: F401
from app.models.events import Event, WebhookDelivery, WebhookSubscription  # noqa: F401
from app.models.kiosk import KioskLink  # noqa: F401
from app.models.orders import Order, OrderCell, OrderEntry, OrderEvent, OrderItem  # noqa: F401
from app.models.tickets import Ticket, TicketItem  # noqa: F401
