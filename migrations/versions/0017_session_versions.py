"""users carry a session version; stations keep their webhook secret encrypted

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 10:00:00

users.session_version: every dashboard session and remember-me cookie carries it, and moving it
on ends them all (sign out everywhere, a new password, other rights, deactivation). Existing
users start at 1; sessions signed in before this migration carry no version and are refused, so
everyone signs in once more.

stations.encrypted_secret: the webhook secret encrypted under SECRET_ENCRYPTION_KEYS. The
secrets already stored stay in plain text in stations.secret until `flask rotate-secrets`
encrypts them: a migration cannot, as the key is not the database's to know.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a constant default fills every row without a copy.
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False,
                                     server_default="1"))
    op.add_column("stations", sa.Column("encrypted_secret", sa.Text(), nullable=True))


def downgrade():
    # Plain ALTER TABLE on SQLite too (3.35+): a batch would copy each table and drop the old
    # one, which the foreign keys to users and stations refuse (as in 0013). Secrets encrypted
    # meanwhile are lost with their column: the database holds no key to decrypt them with.
    op.drop_column("stations", "encrypted_secret")
    op.drop_column("users", "session_version")
