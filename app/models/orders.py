"""Orders, their items, station entries, item x station cells and history."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    column,
    false,
    func,
    literal_column,
    table,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import order_types
from app.core import status as S
from app.extensions import db
from app.models.catalog import Station
from app.models.columns import MONEY, QUANTITY, CodeList, ModifierList, new_ordered_guid, utcnow
from app.models.tickets import Ticket


def status_rank(status):
    """A status's place in the stages (New 0 ... Completed 3, Cancelled 4): how lists sort by
    status. Written with literal values, so the index on it (ix_orders_status_rank) is the
    expression a sort writes, which SQLite needs to use it."""
    return case({literal_column(f"'{name}'"): literal_column(str(rank))
                 for rank, name in enumerate(S.ALL)}, value=status)


class Order(db.Model):
    """An order. Its indexes serve the lists' filters and sorts (docs/queries.md has the table
    of which query uses which); those that differ between the databases follow the class."""
    __tablename__ = "orders"
    __table_args__ = (
        # status=X and status=in:... with the default sort (number desc): the dashboard's and
        # the API's lists of one status or of the open ones. Also status=X sorted by number.
        Index("ix_orders_status_number", "status", "number"),
        # status=X sorted by creation time: the API's usual page of one status, newest first.
        Index("ix_orders_status_created_at", "status", "created_at"),
        # isProcessed=false (orders waiting for dispatch, the few) with the default sort, and
        # their count.
        Index("ix_orders_processed_number", "is_processed", "number"),
        # Whose orders (a user without an order right sees only their own), newest first;
        # also the foreign key's index.
        Index("ix_orders_user_id_number", "user_id", "number"),
        # The sorts by each column the dashboard's headings and the API offer; each ends with
        # the id, which breaks ties in the same direction (app.services.orders._order_by), so
        # a first page reads its rows off the index. Also filters on the column (eq, ranges).
        Index("ix_orders_user_user_name", "user_user_name", "id"),
        Index("ix_orders_order_total", "order_total", "id"),
        Index("ix_orders_last_saved_at", "last_saved_at", "id"),
        # The list filters by order type and rush, newest first.
        Index("ix_orders_order_type_number", "order_type", "number"),
        Index("ix_orders_is_rush_number", "is_rush", "number"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_ordered_guid)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(10))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # Snapshots: an order records who and what it was made for, as it was then.
    ticket_name: Mapped[str | None] = mapped_column(String(120))
    device_name: Mapped[str | None] = mapped_column(String(80))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user_user_name: Mapped[str] = mapped_column(String(80))
    user_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    is_processed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_void: Mapped[bool] = mapped_column(Boolean, default=False)
    # A rush order comes first on every station's screen and the expo's.
    is_rush: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    order_type: Mapped[str] = mapped_column(String(10), default=order_types.DEFAULT,
                                            server_default=order_types.DEFAULT)
    currency: Mapped[str] = mapped_column(String(3))
    sub_total: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    shipping_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    order_total: Mapped[Decimal] = mapped_column(MONEY)
    shipping_method: Mapped[str | None] = mapped_column(String(80))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    last_saved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the order last became Ready (every live cell Ready); None while it is not Ready. A
    # ready board shows the number as Ready for its minutes from then.
    ready_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    ticket: Mapped[Ticket | None] = relationship()
    items: Mapped[list["OrderItem"]] = relationship(
        order_by="OrderItem.item_no", cascade="all, delete-orphan"
    )
    entries: Mapped[list["OrderEntry"]] = relationship(
        order_by="OrderEntry.id", cascade="all, delete-orphan"
    )
    cells: Mapped[list["OrderCell"]] = relationship(
        order_by="OrderCell.id", cascade="all, delete-orphan"
    )
    history: Mapped[list["OrderEvent"]] = relationship(
        order_by="OrderEvent.id", cascade="all, delete-orphan"
    )

    @property
    def customer_label(self) -> str:
        """Who the order is for, as staff say it: the ticket, else the addressee, else the user."""
        if self.ticket_name:
            return self.ticket_name
        address = self.shipping_address or {}
        name = " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p)
        return name or self.user_name


def _only_on(dialect: str, index: Index) -> Index:
    """An index made on one database only (migrations/env.py leaves the other's out of the
    comparison of the models with the migrated schema)."""
    index.info["dialect"] = dialect
    return index.ddl_if(dialect=dialect)


def _nulls_lowest(name: str, column) -> tuple[Index, Index]:
    """The index of a sort by a nullable column, then the id. Lists put nulls lowest on both
    databases: first ascending, last descending. SQLite's indexes hold them so; PostgreSQL's
    hold them highest unless told (and SQLite refuses to be told)."""
    return (_only_on("postgresql", Index(name, column.asc().nulls_first(), Order.id)),
            _only_on("sqlite", Index(name, column, Order.id)))


# status as a sort key ($sort=status, the dashboard's Status heading).
Index("ix_orders_status_rank", status_rank(Order.status), Order.id)
# The sorts by the nullable columns, as above (and their eq filters).
_nulls_lowest("ix_orders_ticket_name", Order.ticket_name)
_nulls_lowest("ix_orders_device_name", Order.device_name)
_nulls_lowest("ix_orders_completed_at", Order.completed_at)
# contains, startswith and endswith on the text members (the dashboard's Ticket, Device and
# User filters and its search box): on PostgreSQL pg_trgm's index of trigrams serves
# lower(column) LIKE '%text%' as the filters write it. SQLite has the full-text table
# ORDER_SEARCH instead (below).
_only_on("postgresql", Index(
    "ix_orders_text_trgm", func.lower(Order.ticket_name).label("ticket_name"),
    func.lower(Order.device_name).label("device_name"),
    func.lower(Order.user_user_name).label("user_user_name"), postgresql_using="gin",
    postgresql_ops={"ticket_name": "gin_trgm_ops", "device_name": "gin_trgm_ops",
                    "user_user_name": "gin_trgm_ops"}))

# SQLite's index for contains, startswith and endswith: an FTS5 table with the trigram
# tokenizer over these columns of orders, its rows keyed by the order's number and kept in step
# by triggers (migration 0018). Not a model: migrations made it, and only they change it.
ORDER_SEARCH = table("orders_search", column("rowid", Integer), column("ticket_name"),
                     column("device_name"), column("user_user_name"))


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "item_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    item_no: Mapped[int] = mapped_column(Integer)
    product_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str | None] = mapped_column(String(500))
    course: Mapped[int | None] = mapped_column(Integer)
    project_guid: Mapped[str | None] = mapped_column(String(36), index=True)
    # Courses that fire (app.services.courses): the product's prep time as ordered, when the
    # item's course was fired (null while it waits to be) and when to start it so its course
    # finishes together.
    prep_seconds: Mapped[int | None] = mapped_column(Integer)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime)
    start_at: Mapped[datetime | None] = mapped_column(DateTime)
    # As on the ticket line; `allergens` are the product's as it was ordered. An item with
    # guest allergies is marked everywhere and acknowledged at each station before its bump.
    modifiers: Mapped[tuple] = mapped_column(ModifierList(), default=(), nullable=True)
    allergies: Mapped[tuple] = mapped_column(CodeList(), default=(), nullable=True)
    allergens: Mapped[tuple] = mapped_column(CodeList(), default=(), nullable=True)


class OrderEntry(db.Model):
    """One per station an order is routed to; dispatched once (processed_at).

    `is_open` says whether any of the entry's cells is still to do (New, Processing, Ready). It
    is derived from the cells and kept by app.services.order_status in the transaction that
    changes them, so a station's screen reads its handful of open entries through the index
    below instead of every entry the station ever had. A new entry's cells are New: open.
    """
    __tablename__ = "order_entries"
    __table_args__ = (
        UniqueConstraint("order_id", "station_id"),
        Index("ix_order_entries_station_processed", "station_id", "processed_at"),
        Index("ix_order_entries_station_open", "station_id", "is_open", "processed_at"),
        Index("ix_order_entries_handed_open", "handed_to_id", "is_open", "processed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the station acknowledged the guest allergies of the order's items there; its screen
    # refuses to bump the card until then (app.services.kiosk).
    allergies_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The backup station it was handed to while its own station failed or was unwatched: it
    # is made there, and stays this station's part of the order. A plain column, as
    # Station.backup_station_id.
    handed_to_id: Mapped[int | None] = mapped_column(Integer)
    station: Mapped[Station] = relationship(lazy="joined")
    handed_to: Mapped[Station | None] = relationship(
        primaryjoin="foreign(OrderEntry.handed_to_id) == Station.id", viewonly=True)


class OrderCell(db.Model):
    """The state of one item at one station: the only place a status is set."""
    __tablename__ = "order_cells"
    # entry_id first: a station's screen asks for the open cells of its entries.
    __table_args__ = (UniqueConstraint("item_id", "entry_id"),
                      Index("ix_order_cells_entry_status", "entry_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("order_entries.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    item: Mapped[OrderItem] = relationship()
    entry: Mapped[OrderEntry] = relationship()


class OrderEvent(db.Model):
    """One line of an order's history. Kept when the order is deleted."""
    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(120))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    user_name: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(Text)
