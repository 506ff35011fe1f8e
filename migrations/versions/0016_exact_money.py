"""exact amounts and quantities on SQLite

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00

SQLite has no exact decimal type: its NUMERIC(18, 4) columns kept amounts as REAL, so
1234567890123.4567 was stored as 1234567890123.4568. They become BIGINT columns counting units
of the last decimal (12.5 at scale 4 is 125000), as app.models.columns.ExactDecimal reads and
writes them. Existing values are rounded to the nearest unit, which is exact for every amount
a REAL held to four decimals (below about 9 * 10^11). PostgreSQL's NUMERIC is exact already and
is left as it is.

Each table is copied (batch mode); foreign keys are unenforced meanwhile (migrations/env.py), so
the copy of `orders` keeps its items, and they are checked before the migration commits.

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

MONEY, QUANTITY = (18, 4), (14, 3)
COLUMNS = {
    "products": {"price": MONEY},
    "orders": {"sub_total": MONEY, "discount_total": MONEY, "shipping_total": MONEY,
               "order_total": MONEY},
    "order_items": {"quantity": QUANTITY, "unit_price": MONEY, "total": MONEY},
    "ticket_items": {"quantity": QUANTITY},
    "basket_lines": {"quantity": QUANTITY},
}


def _check_foreign_keys():
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"Foreign keys broken by copying tables: {broken[:5]}")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column, (_, scale) in columns.items():
            op.execute(f"UPDATE {table} SET {column} = "
                       f"CAST(ROUND({column} * {10 ** scale}) AS INTEGER)")
        with op.batch_alter_table(table, recreate="always") as batch_op:
            for column, (precision, scale) in columns.items():
                batch_op.alter_column(column, type_=sa.BigInteger(),
                                      existing_type=sa.Numeric(precision, scale),
                                      existing_nullable=False)
    _check_foreign_keys()


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, recreate="always") as batch_op:
            for column, (precision, scale) in columns.items():
                batch_op.alter_column(column, type_=sa.Numeric(precision, scale),
                                      existing_type=sa.BigInteger(), existing_nullable=False)
        for column, (_, scale) in columns.items():
            op.execute(f"UPDATE {table} SET {column} = {column} / {10 ** scale}.0")
    _check_foreign_keys()
