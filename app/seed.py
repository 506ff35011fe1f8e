"""Demo data: made through the real services, so it obeys every rule the product has.

`bulk_insert_orders` is the exception: it writes rows directly, in chunks, to reach a million
orders in minutes for the benchmarks. Its orders have the same shape the services give.
"""
import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, text, update

from app.core import status as S
from app.db.transactions import write_transaction
from app.extensions import db
from app.models import Counter, Device, Station, User, utcnow
from app.models.orders import Order, OrderCell, OrderEntry, OrderEvent, OrderItem
from app.services import baskets, counts, order_status, products, stations, tickets, users
from app.services.order_factory import ORDER_NUMBER
from app.services.tickets import LineInput

DEMO_USERS = [
    # user name, password, display name, rights
    ("admin", "admin-demo", "Ada Admin", ["admin"]),
    ("manager", "manager-demo", "Mia Manager",
     ["orderRead", "orderProcess", "orderUpdate", "orderDelete"]),
    ("cook", "cook-demo", "Carl Cook", ["orderRead", "orderUpdate"]),
    ("waiter", "waiter-demo", "Wendy Waiter", ["ticketCreate", "ticketUpdate"]),
    ("customer", "customer-demo", "Cora Customer", []),
]
DEMO_STATIONS = ["Kitchen", "Bar", "Pass", "Print room", "Packing"]
DEMO_PRODUCTS = [
    # code, name, price, stations, course
    ("BURGER", "Cheeseburger", "12.50", ["Kitchen", "Pass"], 2),
    ("FRIES", "Fries", "4.00", ["Kitchen"], 2),
    ("SALAD", "Garden salad", "8.90", ["Kitchen"], 1),
    ("SOUP", "Tomato soup", "6.50", ["Kitchen", "Pass"], 1),
    ("CAKE", "Chocolate cake", "6.00", ["Kitchen", "Pass"], 3),
    ("COLA", "Cola", "3.20", ["Bar"], None),
    ("BEER", "Draught beer", "4.80", ["Bar"], None),
    ("WINE", "Glass of red wine", "6.40", ["Bar"], None),
    ("COFFEE", "Espresso", "2.60", ["Bar"], 3),
    ("BREAD", "Bread basket", "3.00", [], 1),
    ("POSTER", "Poster A2", "19.95", ["Print room", "Packing"], None),
    ("CARD", "Greeting card", "2.45", ["Print room", "Packing"], None),
    ("BOOK", "Photo book", "34.50", ["Print room", "Packing"], None),
]
DEMO_ADDRESS = {"firstName": "Cora", "lastName": "Customer", "line1": "Keizersgracht 1",
                "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL",
                "emailAddress": "cora@example.com"}
DEVICE_NAME = "POS-1"


def demo_users_exist() -> bool:
    return db.session.scalar(select(User.id).where(User.user_name == "admin")) is not None


def _ensure_catalog() -> Device:
    existing = {s.name for s in stations.list_stations()}
    for name in DEMO_STATIONS:
        if name not in existing:
            stations.create_station(name=name, type="display")
    known = {p.code for p in products.list_products()}
    for code, name, price, station_names, course in DEMO_PRODUCTS:
        if code not in known:
            products.create_product(code=code, name=name, price=Decimal(price),
                                    station_names=station_names, course=course)
    with write_transaction() as session:
        device = session.scalar(select(Device).where(Device.name == DEVICE_NAME))
        if device is None:
            device = Device(name=DEVICE_NAME)
            session.add(device)
        # Products routed nowhere (the bread basket) go to the device's default station.
        device.default_station_id = session.scalar(select(Station.id)
                                                   .where(Station.name == "Pass"))
    return device


def load_demo() -> None:
    for user_name, password, name, rights in DEMO_USERS:
        users.save_user(user_name=user_name, password=password, name=name, rights=rights)
    device = _ensure_catalog()
    waiter = db.session.scalar(select(User).where(User.user_name == "waiter"))
    cook = db.session.scalar(select(User).where(User.user_name == "cook"))

    def line(code, quantity, note=None):
        return LineInput(code, Decimal(quantity), note)

    tables = [
        ("Table 1", [line("BURGER", 2), line("FRIES", 2), line("COLA", 2)]),
        ("Table 2", [line("SOUP", 1), line("SALAD", 1, "no onions"), line("WINE", 2)]),
        ("Table 3", [line("BEER", 3), line("BREAD", 1)]),
        ("Table 4", [line("CAKE", 2), line("COFFEE", 2)]),
        ("Table 5", [line("BURGER", 1), line("BEER", 1)]),
        ("Bar 1", [line("WINE", 1)]),
    ]
    made = []
    for name, lines in tables:
        ticket, orders = tickets.create_ticket(user=waiter, device=device, name=name,
                                               lines=lines)
        made.append((ticket, orders))
    # Table 1 orders more and drops a cola: an order and a void order.
    ticket, _ = made[0]
    tickets.update_ticket(user=waiter, device=device, ticket_id=ticket.id, name="Table 1",
                          lines=[line("BURGER", 3), line("FRIES", 2), line("COLA", 1)])
    # Statuses across the board, set the way the stations set them.
    steps = {1: S.PROCESSING, 2: S.READY, 3: S.COMPLETED, 4: S.CANCELLED}
    for index, status in steps.items():
        order = made[index][1][0]
        order_status.set_order_status(user=cook, order_id=order.id, status=status)
    order = made[0][1][0]
    order_status.set_entry_status(user=cook, order_id=order.id, station_name="Bar",
                                  status=S.READY)
    tickets.close_ticket(user=waiter, ticket_id=made[3][0].id)
    _load_shop()


def _load_shop() -> None:
    """The customer's projects, an open basket and two placed orders, made through checkout."""
    customer = db.session.scalar(select(User).where(User.user_name == "customer"))
    poster = baskets.create_project(user=customer, name="Summer poster", product_code="POSTER")
    book = baskets.create_project(user=customer, name="Wedding album", product_code="BOOK")
    for lines_, method in (([(poster, 2), (None, 10)], "Standard"), ([(book, 1)], "Express")):
        basket = baskets.create_basket(user=customer)
        for project, quantity in lines_:
            baskets.add_line(user=customer, guid=basket.guid, quantity=Decimal(quantity),
                             project_guid=project.guid if project else None,
                             product_code=None if project else "CARD")
        baskets.checkout_basket(user=customer, device=None, guid=basket.guid, currency="EUR",
                                shipping_method=method, shipping_address=DEMO_ADDRESS,
                                shipping_total=Decimal("4.95"))
    open_basket = baskets.create_basket(user=customer)
    baskets.add_line(user=customer, guid=open_basket.guid, quantity=Decimal(1),
                     project_guid=book.guid)


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


ORDER_TYPE_MIX = ("dineIn", "takeout", "delivery")
ORDER_TYPE_WEIGHTS = (6, 3, 1)
RUSH_SHARE = 0.1


def bulk_insert_orders(count: int, *, chunk: int = 5000, progress=print, seed: int = 7) -> int:
    """Insert `count` ticket orders with items, entries, cells and a history line each."""
    rng = random.Random(seed)
    catalog = [(p.code, p.name, p.price, [s.id for s in p.stations] or None, p.course)
               for p in products.list_products()]
    user = db.session.scalar(select(User).where(User.user_name == "waiter"))
    pass_id = db.session.scalar(select(Station.id).where(Station.name == "Pass"))
    # Like a real year of service: what is older than the last two hours is done (or was
    # cancelled); only the recent orders are still open at the stations.
    recent = [S.NEW, S.PROCESSING, S.READY, S.COMPLETED]
    finished = [S.COMPLETED] * 19 + [S.CANCELLED]
    open_since = utcnow() - timedelta(hours=2)
    start = utcnow() - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    done = 0
    while done < count:
        size = min(chunk, count - done)
        with write_transaction() as session:
            first_number = session.execute(
                update(Counter).where(Counter.name == ORDER_NUMBER)
                .values(value=Counter.value + size).returning(Counter.value)
            ).scalar_one() - size + 1
            item_id, entry_id = _next_id(OrderItem), _next_id(OrderEntry)
            cell_id, event_id = _next_id(OrderCell), _next_id(OrderEvent)
            orders, items, entries, cells, events = [], [], [], [], []
            stations_of: dict[str, list[int]] = {}
            for n in range(size):
                number = first_number + n
                created = start + step * (done + n)
                order_id = f"{rng.getrandbits(128):032x}"
                order_id = "-".join((order_id[:8], order_id[8:12], "4" + order_id[13:16],
                                     "8" + order_id[17:20], order_id[20:]))
                status = rng.choice(recent if created >= open_since else finished)
                picks = rng.sample(catalog, rng.randint(1, 3))
                order_entries = {}
                sub_total = Decimal(0)
                for item_no, (code, name, price, station_ids, course) in enumerate(picks, 1):
                    quantity = Decimal(rng.randint(1, 4))
                    total = quantity * price
                    sub_total += total
                    # Every course fired with the order (as a station serving them together).
                    items.append(dict(id=item_id, order_id=order_id, item_no=item_no,
                                      product_code=code, name=name, quantity=quantity,
                                      unit_price=price, total=total, course=course,
                                      fired_at=created, start_at=created))
                    for sid in station_ids or [pass_id]:
                        if sid not in order_entries:
                            order_entries[sid] = entry_id
                            # Every cell of a seeded order has the order's status.
                            entries.append(dict(id=entry_id, order_id=order_id,
                                                station_id=sid, processed_at=created,
                                                is_open=status in order_status.OPEN))
                            entry_id += 1
                        cells.append(dict(id=cell_id, order_id=order_id, item_id=item_id,
                                          entry_id=order_entries[sid], status=status))
                        cell_id += 1
                    item_id += 1
                stations_of[order_id] = list(order_entries)
                # Most guests eat in; a few open orders are rushed.
                order_type = rng.choices(ORDER_TYPE_MIX, weights=ORDER_TYPE_WEIGHTS)[0]
                orders.append(dict(
                    order_type=order_type, ready_at=created if status == S.READY else None,
                    is_rush=status in order_status.OPEN and rng.random() < RUSH_SHARE,
                    id=order_id, number=number, version=2, source="ticket",
                    ticket_name=f"Table {number % 40 + 1}", device_name=DEVICE_NAME,
                    user_id=user.id, user_user_name=user.user_name, user_name=user.name,
                    status=status, is_processed=True, is_void=False, currency="EUR",
                    sub_total=sub_total, discount_total=Decimal(0), shipping_total=Decimal(0),
                    order_total=sub_total, created_at=created, last_saved_at=created,
                    completed_at=created + timedelta(minutes=20)
                    if status == S.COMPLETED else None))
                events.append(dict(id=event_id, order_id=order_id, at=created,
                                   action="created", user_name=user.user_name,
                                   detail="bulk demo order"))
                event_id += 1
            delta: dict[str, int] = {}
            for order in orders:
                for name in counts.membership(status=order["status"], is_void=False,
                                              source="ticket",
                                              station_ids=stations_of[order["id"]]):
                    delta[name] = delta.get(name, 0) + 1
            counts.add_orders(session, delta)
            for model, rows in ((Order, orders), (OrderItem, items), (OrderEntry, entries),
                                (OrderCell, cells), (OrderEvent, events)):
                _insert_rows(session, model, rows)
        done += size
        if done % 100000 < chunk or done == count:
            progress(f"  {done} / {count} orders")
    _fix_sequences()
    # Fresh statistics, so the query planner knows which index a filter should walk (SQLite
    # keeps none until asked).
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return done


def _insert_rows(session, model, rows: list[dict]) -> None:
    """Executemany on SQLite; COPY on PostgreSQL, where row-by-row inserts are ten times slower."""
    if session.connection().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    # A bulk load is not a request: a chunk may take longer than a request's statement timeout
    # (app.db.engine), for this transaction only.
    session.execute(text("SET LOCAL statement_timeout = 0"))
    columns = list(rows[0])
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _fix_sequences() -> None:
    """PostgreSQL serial columns do not see explicit ids; move them past what was inserted."""
    if db.engine.dialect.name != "postgresql":
        return
    with write_transaction() as session:
        for table in ("order_items", "order_entries", "order_cells", "order_events"):
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
