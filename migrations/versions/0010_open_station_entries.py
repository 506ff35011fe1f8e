"""order entries know whether they are still open at their station

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The stages a cell is still to do in (app.services.order_status.OPEN), written out: a
# migration must not change meaning when the application code does.
OPEN = ('New', 'Processing', 'Ready')


def upgrade():
    # A station's screen wants its open entries only: a handful, against the hundreds of
    # thousands of finished ones a year leaves. The flag is derived from the cells; it is kept
    # by the services from now on and computed here for the rows that exist.
    cells = sa.table('order_cells', sa.column('entry_id', sa.Integer),
                     sa.column('status', sa.String))
    entries = sa.table('order_entries', sa.column('id', sa.Integer),
                       sa.column('is_open', sa.Boolean))
    still_to_do = sa.exists().where(cells.c.entry_id == entries.c.id, cells.c.status.in_(OPEN))
    if op.get_bind().dialect.name == 'postgresql':
        # A constant default fills every row without writing one; then only the few open
        # entries are written (rewriting all of them took 30 s at a million orders, holding
        # every row's lock), and new entries default to open.
        op.add_column('order_entries', sa.Column('is_open', sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))
        op.execute(entries.update().where(still_to_do).values(is_open=True))
        op.alter_column('order_entries', 'is_open', server_default=sa.true())
    else:
        # SQLite cannot change a default without copying the table: the column comes with its
        # final one, and the closed entries are written once (5 s at a million orders).
        op.add_column('order_entries', sa.Column('is_open', sa.Boolean(), nullable=False,
                                                 server_default=sa.true()))
        op.execute(entries.update().where(~still_to_do).values(is_open=False))
    # Built after the backfill, so the UPDATE does not maintain it row by row.
    op.create_index('ix_order_entries_station_open', 'order_entries',
                    ['station_id', 'is_open', 'processed_at'])


def downgrade():
    op.drop_index('ix_order_entries_station_open', table_name='order_entries')
    # A plain ALTER TABLE on SQLite too (3.35+): a batch would copy the table and drop the old
    # one, and with foreign keys on that drop deletes every cell through ON DELETE CASCADE.
    op.drop_column('order_entries', 'is_open')
