"""The schema comes only from migrations: head matches the models exactly, on both databases."""
import warnings
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from app.db.schema import EXPRESSION_INDEXES, include_object
from app.extensions import db
from app.models import Device, Product
from app.models.baskets import BasketLine
from app.models.orders import Order, OrderItem
from app.models.tickets import TicketItem
from app.services import baskets, products, stations
from tests.conftest import lines, make_app, make_user


def test_models_match_migrations(app):
    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot read an index on an expression back (the next test checks they exist).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        # As migrations/env.py compares them: each database's own indexes, and no full-text
        # table (app.db.schema).
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include_object(conn.dialect.name)})
        assert compare_metadata(context, db.metadata) == []


def test_what_the_comparison_leaves_out_exists(app):
    """The indexes on expressions, and on SQLite the full-text table and its triggers (which a
    migration copying `orders` would drop with the old table)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            indexes = set(conn.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")))
            assert EXPRESSION_INDEXES <= indexes
            return
        objects = set(conn.execute(text(
            "SELECT type, name FROM sqlite_master WHERE tbl_name IN ('orders', 'orders_search')")))
    assert {("index", name) for name in EXPRESSION_INDEXES} <= objects
    assert {("table", "orders_search"), ("trigger", "orders_search_insert"),
            ("trigger", "orders_search_update"), ("trigger", "orders_search_delete")} <= objects


def fresh_database(kind: str, tmp_path) -> str:
    """The URL of a new, empty database of this kind."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    import psycopg

    from tests.conftest import POSTGRES
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "orders_migration_check" WITH (FORCE)')
        conn.execute('CREATE DATABASE "orders_migration_check"')
    return POSTGRES.replace("postgresql://", "postgresql+psycopg://") + "/orders_migration_check"


def test_upgrade_empty_database_to_head_and_back(migrated_app, database_urls, tmp_path):
    app = make_app(fresh_database(migrated_app.config["DB_KIND"], tmp_path))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"orders", "order_items", "order_entries", "order_cells", "order_events",
                "tickets", "stations", "products", "users", "tokens"} <= tables
        with db.engine.connect() as conn:
            assert conn.execute(text(
                "SELECT value FROM counters WHERE name = 'order_number'")).scalar() == 0
        downgrade(revision="base")
        assert "orders" not in set(inspect(db.engine).get_table_names())
        db.engine.dispose()


AMOUNTS = [(Product.price, "code"), (Order.sub_total, "number"), (Order.order_total, "number"),
           (Order.shipping_total, "number"), (OrderItem.quantity, "id"),
           (OrderItem.unit_price, "id"), (OrderItem.total, "id"), (TicketItem.quantity, "id"),
           (BasketLine.quantity, "id")]


def _amounts() -> dict:
    found = {}
    for column, key in AMOUNTS:
        table = column.class_
        found[str(column)] = dict(db.session.execute(
            select(getattr(table, key), column).order_by(getattr(table, key))).all())
    return found


def _row_counts() -> dict:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


def test_exact_money_migration_keeps_every_row_and_amount(migrated_app, tmp_path):
    """0016 copies the tables holding amounts on SQLite (PostgreSQL is left as it is): the
    orders keep their items, cells and history, and amounts a REAL held come back exact."""
    from app.services.tickets import create_ticket

    kind = migrated_app.config["DB_KIND"]
    app = make_app(fresh_database(kind, tmp_path))
    with app.app_context():
        upgrade()
        stations.create_station(name="Bar")
        products.create_product(code="WINE", name="Wine", price=Decimal("19.95"),
                                station_names=["Bar"])
        products.create_product(code="CAVIAR", name="Caviar", price=Decimal("12345.6789"),
                                station_names=["Bar"])
        device = Device(name="POS-1")
        db.session.add(device)
        db.session.commit()
        waiter = make_user("waiter", ["ticketCreate"])
        create_ticket(user=waiter, device=device, name="Table 1",
                      lines=lines(("WINE", "2.5"), ("CAVIAR", "0.333")))
        customer = make_user("customer")
        basket = baskets.create_basket(user=customer)
        baskets.add_line(user=customer, guid=basket.guid, quantity=Decimal("7.125"),
                         product_code="WINE")
        amounts, rows = _amounts(), _row_counts()
        assert rows["order_items"] == 2 and rows["order_cells"] == 2
        db.session.remove()

        downgrade(revision="0016-1")
        with db.engine.connect() as conn:
            price = conn.execute(text("SELECT price FROM products WHERE code = 'WINE'")).scalar()
            if kind == "sqlite":
                assert price == 19.95  # a REAL again, as before 0016
                assert conn.execute(text("SELECT typeof(price) FROM products "
                                         "WHERE code = 'WINE'")).scalar() == "real"
            else:
                assert price == Decimal("19.9500")
        upgrade()
        # The event feed starts at 0024: a downgrade past it drops the events, and nothing
        # brings them back (they are not made from the history). Every other row comes back.
        assert rows["events"] == 1 and _row_counts()["events"] == 0
        assert {**_row_counts(), "events": 1} == rows
        assert _amounts() == amounts
        if kind == "sqlite":
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT price, typeof(price) FROM products "
                                         "WHERE code = 'CAVIAR'")).one() == (123456789, "integer")
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
