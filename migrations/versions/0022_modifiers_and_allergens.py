"""modifiers and allergens: on ticket lines and order items, allergens on products, and the
stations' acknowledgement of guest allergies

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 10:00:00

ticket_items.modifiers, order_items.modifiers: JSON lists of {name, quantity} (the quantity as
the text of an exact decimal). ticket_items.allergies, order_items.allergies: the guest's
allergen codes; order_items.allergens and products.allergens: the product's. All NULL when
empty, so existing rows need no change. order_entries.allergies_acknowledged_at: when the
station acknowledged the guest allergies of its items.
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_COLUMNS = [("products", "allergens"), ("ticket_items", "modifiers"),
            ("ticket_items", "allergies"), ("order_items", "modifiers"),
            ("order_items", "allergies"), ("order_items", "allergens")]


def upgrade():
    # Plain ALTER TABLE on both databases: nullable columns without a default write no row.
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=True))
    op.add_column('order_entries',
                  sa.Column('allergies_acknowledged_at', sa.DateTime(), nullable=True))


def downgrade():
    # A plain ALTER TABLE on SQLite too (3.35+): a batch would copy the table and drop the old
    # one, and with foreign keys on that drop deletes rows referring to it through CASCADE.
    op.drop_column('order_entries', 'allergies_acknowledged_at')
    for table, column in reversed(_COLUMNS):
        op.drop_column(table, column)
