"""ready boards, their links, and when an order became Ready

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09 10:00:00

ready_boards and ready_board_stations: named public boards of order numbers, limited to some
stations and order types. kiosk_links.board_id: a link may open one board. orders.ready_at:
when the order became Ready; orders Ready already take their last save as that time.
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ready_boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("order_types", sa.String(length=60), nullable=True),
        sa.Column("show_first_name", sa.Boolean(), nullable=False),
        sa.Column("chime", sa.Boolean(), nullable=False),
        sa.Column("ready_minutes", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "ready_board_stations",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["ready_boards.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("board_id", "station_id"),
    )
    op.create_index("ix_ready_board_stations_station_id", "ready_board_stations",
                    ["station_id"])
    # A batch on SQLite: a foreign key cannot be added by ALTER TABLE there. kiosk_links is
    # referenced by nothing, so copying it is safe.
    with op.batch_alter_table("kiosk_links") as batch:
        batch.add_column(sa.Column("board_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_kiosk_links_board_id_ready_boards", "ready_boards",
                                 ["board_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_kiosk_links_board_id", ["board_id"])
    op.add_column("orders", sa.Column("ready_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE orders SET ready_at = last_saved_at WHERE status = 'Ready'")


def downgrade():
    op.drop_column("orders", "ready_at")
    with op.batch_alter_table("kiosk_links") as batch:
        batch.drop_index("ix_kiosk_links_board_id")
        batch.drop_constraint("fk_kiosk_links_board_id_ready_boards", type_="foreignkey")
        batch.drop_column("board_id")
    op.drop_index("ix_ready_board_stations_station_id", table_name="ready_board_stations")
    op.drop_table("ready_board_stations")
    op.drop_table("ready_boards")
