"""an index on orders by status and creation time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 14:45:00

"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # The API's usual page: one status, newest first. Without it the plan depends on statistics
    # and, without them, reads every order of that status to sort them.
    op.create_index('ix_orders_status_created_at', 'orders', ['status', 'created_at'])


def downgrade():
    op.drop_index('ix_orders_status_created_at', table_name='orders')
