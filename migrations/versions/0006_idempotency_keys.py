"""idempotency keys: the first answer to each (user, Idempotency-Key), for replaying retries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 11:28:39.541635

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    # Also the index that finds a key, and a user's expired keys.
    sa.UniqueConstraint('user_id', 'key', name='uq_idempotency_keys_user_key')
    )


def downgrade():
    op.drop_table('idempotency_keys')
