"""courses that fire: items know when their course was fired and when to start; products
carry a prep time

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 10:00:00

order_items.fired_at: when the item's course was fired; null while it is held (a station whose
setting courseFiring is "held" does not start it until then). order_items.start_at: when the
item should be started so that its course finishes together (fired_at + the course's longest
prep time - its own). order_items.prep_seconds: its product's prep time when it was ordered.
products.prep_seconds: how long the product takes to make, in seconds (optional).

Nothing was held before this migration: every existing item counts as fired, and started, when
its order was created.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: nullable columns without a default write no row.
    op.add_column('products', sa.Column('prep_seconds', sa.Integer(), nullable=True))
    op.add_column('order_items', sa.Column('prep_seconds', sa.Integer(), nullable=True))
    op.add_column('order_items', sa.Column('fired_at', sa.DateTime(), nullable=True))
    op.add_column('order_items', sa.Column('start_at', sa.DateTime(), nullable=True))
    orders = sa.table('orders', sa.column('id', sa.String), sa.column('created_at', sa.DateTime))
    items = sa.table('order_items', sa.column('order_id', sa.String),
                     sa.column('fired_at', sa.DateTime), sa.column('start_at', sa.DateTime))
    created = (sa.select(orders.c.created_at).where(orders.c.id == items.c.order_id)
               .scalar_subquery())
    op.execute(items.update().values(fired_at=created, start_at=created))


def downgrade():
    # A plain ALTER TABLE on SQLite too (3.35+): a batch would copy the table and drop the old
    # one, and with foreign keys on that drop deletes every cell through ON DELETE CASCADE.
    op.drop_column('order_items', 'start_at')
    op.drop_column('order_items', 'fired_at')
    op.drop_column('order_items', 'prep_seconds')
    op.drop_column('products', 'prep_seconds')
