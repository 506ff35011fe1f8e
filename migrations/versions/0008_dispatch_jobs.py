"""dispatch jobs for printer and webhook stations, and the log of their attempts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 14:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dispatch_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('claim_id', sa.String(length=36), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('requested_by', sa.String(length=80), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['order_entries.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id')
    )
    op.create_index('ix_dispatch_jobs_order_id', 'dispatch_jobs', ['order_id'])
    op.create_index('ix_dispatch_jobs_state_due', 'dispatch_jobs', ['state', 'due_at'])
    # One dispatch job per station entry: two processing runs cannot both queue its slip.
    op.create_index('uq_dispatch_jobs_entry', 'dispatch_jobs', ['entry_id'], unique=True,
                    sqlite_where=sa.text("kind = 'dispatch'"),
                    postgresql_where=sa.text("kind = 'dispatch'"))
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('order_number', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['dispatch_jobs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_deliveries_job_id', 'deliveries', ['job_id'])
    op.create_index('ix_deliveries_station_id', 'deliveries', ['station_id', 'id'])


def downgrade():
    op.drop_table('deliveries')
    op.drop_table('dispatch_jobs')
