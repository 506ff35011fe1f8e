"""backup stations, and what shows whether a station is healthy

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-12 10:00:00

stations.backup_station_id: where a station's entries go while it fails or nobody watches it;
stations.failed_attempts and last_sent_at: a printer's or webhook's sends failed in a row, and
when one last went out. station_screens: each screen of a display station and when it last
asked for its board. order_entries.handed_to_id: the backup an entry was handed to. The two
station ids are plain columns: a foreign key added on SQLite copies the table, and the order
tables reference both.
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("stations", sa.Column("backup_station_id", sa.Integer(), nullable=True))
    op.add_column("stations", sa.Column("failed_attempts", sa.Integer(), nullable=False,
                                        server_default="0"))
    op.add_column("stations", sa.Column("last_sent_at", sa.DateTime(), nullable=True))
    op.create_table(
        "station_screens",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("screen_id", sa.String(length=36), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id", "screen_id"),
    )
    op.create_index("ix_station_screens_last_seen_at", "station_screens", ["last_seen_at"])
    op.add_column("order_entries", sa.Column("handed_to_id", sa.Integer(), nullable=True))
    op.create_index("ix_order_entries_handed_open", "order_entries",
                    ["handed_to_id", "is_open", "processed_at"])


def downgrade():
    op.drop_index("ix_order_entries_handed_open", table_name="order_entries")
    op.drop_column("order_entries", "handed_to_id")
    op.drop_index("ix_station_screens_last_seen_at", table_name="station_screens")
    op.drop_table("station_screens")
    op.drop_column("stations", "last_sent_at")
    op.drop_column("stations", "failed_attempts")
    op.drop_column("stations", "backup_station_id")
