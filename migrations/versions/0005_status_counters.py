"""live orders per status, as counter rows; an index for one status newest first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 11:20:00

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

STATUSES = ('New', 'Processing', 'Ready', 'Completed', 'Cancelled')


def upgrade():
    op.create_index('ix_orders_status_number', 'orders', ['status', 'number'])
    # Start from what the database holds, so an upgrade of a live database counts right.
    for status in STATUSES:
        op.execute(
            "INSERT INTO counters (name, value) SELECT 'orders." + status + "', COUNT(*) "
            "FROM orders WHERE deleted_at IS NULL AND status = '" + status + "'")


def downgrade():
    op.drop_index('ix_orders_status_number', table_name='orders')
    op.execute("DELETE FROM counters WHERE name LIKE 'orders.%'")
