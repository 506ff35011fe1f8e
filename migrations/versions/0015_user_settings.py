"""users' own settings: the time zone pages show times in, and their home screen

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00

Both are empty for existing users: times in the site's zone (SITE_TIMEZONE), home on the order
list, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: nullable columns fill every row without a copy.
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("home_screen", sa.String(length=100), nullable=True))


def downgrade():
    # Plain ALTER TABLE on SQLite too (3.35+), as 0013 explains: a batch copy of users would
    # be refused by the foreign keys to it.
    op.drop_column("users", "home_screen")
    op.drop_column("users", "time_zone")
