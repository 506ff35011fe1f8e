"""an index on order cells by station entry and status

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 12:40:00

"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # A station's screen reads the open cells of its entries; without this it scans them all.
    op.create_index('ix_order_cells_entry_status', 'order_cells', ['entry_id', 'status'])


def downgrade():
    op.drop_index('ix_order_cells_entry_status', table_name='order_cells')
