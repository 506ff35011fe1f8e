"""The schema comes only from migrations: head matches the models exactly, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from tests.conftest import make_app


def test_models_match_migrations(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_empty_database_to_head_and_back(migrated_app, database_urls, tmp_path):
    kind = migrated_app.config["DB_KIND"]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        import psycopg

        from tests.conftest import POSTGRES
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "orders_migration_check" WITH (FORCE)')
            conn.execute('CREATE DATABASE "orders_migration_check"')
        url = POSTGRES.replace("postgresql://", "postgresql+psycopg://") + \
            "/orders_migration_check"
    app = make_app(url)
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
