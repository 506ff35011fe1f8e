"""users carry a version, so two admins editing one user cannot overwrite each other unseen

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:00:00

The edit form sends the version it was drawn at; a save naming an older one changes nothing and
shows the user as they are now. Existing users start at 1.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a constant default fills every row without a copy.
    op.add_column("users", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    # A plain ALTER TABLE on SQLite too (3.35+): a batch would copy the table and drop the old
    # one, which the foreign keys to users refuse (migration 0010 says the same of its column).
    op.drop_column("users", "version")
