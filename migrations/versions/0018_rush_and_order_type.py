"""tickets and orders carry isRush and orderType

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:30:00

tickets.is_rush, tickets.order_type, orders.is_rush, orders.order_type: every existing ticket
and order is no rush and dine-in, except the web shop's orders (source basket), which are web.
Two indexes serve the order list's filters on them, newest first.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a constant default fills every row without a copy.
    for table in ("tickets", "orders"):
        op.add_column(table, sa.Column("is_rush", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
        op.add_column(table, sa.Column("order_type", sa.String(length=10), nullable=False,
                                       server_default="dineIn"))
    op.execute("UPDATE orders SET order_type = 'web' WHERE source = 'basket'")
    op.create_index("ix_orders_order_type_number", "orders", ["order_type", "number"])
    op.create_index("ix_orders_is_rush_number", "orders", ["is_rush", "number"])


def downgrade():
    op.drop_index("ix_orders_is_rush_number", table_name="orders")
    op.drop_index("ix_orders_order_type_number", table_name="orders")
    # Plain ALTER TABLE on SQLite too (3.35+), as in 0017: a batch would copy the tables, which
    # the foreign keys to them refuse.
    for table in ("orders", "tickets"):
        op.drop_column(table, "order_type")
        op.drop_column(table, "is_rush")
