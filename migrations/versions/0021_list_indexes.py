"""indexes for the order lists' filters and sorts, and for text search

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:00:00

Every filter and sort the dashboard, the kiosk and the API offer reads its first page off an
index; docs/queries.md has the table of which query uses which. Each index below names what it
serves.

Text search (contains, startswith, endswith on ticketName, deviceName, userUserName; the
dashboard's search box): on PostgreSQL a pg_trgm GIN index on lower(column), which serves the
lists' `lower(column) LIKE '%text%'` as written. SQLite's B-trees cannot serve a LIKE with a
leading %: an FTS5 table with the trigram tokenizer (SQLite 3.34 and later) over the same
columns finds the candidate orders, and the lists' LIKE decides among them. It is an
external-content table reading from `orders`, its rows keyed by the order's number (never
changed, and kept by VACUUM and by table copies, where the rowid is not), kept in step by
triggers. A later migration that copies `orders` (a batch operation) drops the triggers with
the old table and must create them again (TRIGGERS below) and rebuild the table.

At 200,000 orders this took 5 s on SQLite (the full-text table is filled once) and 8 s on
PostgreSQL, writes to orders waiting meanwhile; it grows with the orders.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# The stages in order, then Cancelled (app.core.status.ALL), written out: a migration must not
# change meaning when the application code does.
STATUS_RANK = ("CASE status WHEN 'New' THEN 0 WHEN 'Processing' THEN 1 WHEN 'Ready' THEN 2 "
               "WHEN 'Completed' THEN 3 WHEN 'Cancelled' THEN 4 END")
SEARCHED = ("ticket_name", "device_name", "user_user_name")
# Kept in step with orders: the 'delete' command of an external-content table needs the old
# values exactly. The snapshot columns are written once, so updates of other columns (status
# moves) fire nothing.
_COLUMNS = ", ".join(SEARCHED)
_NEW = ", ".join(f"new.{c}" for c in SEARCHED)
_OLD = ", ".join(f"old.{c}" for c in SEARCHED)
TRIGGERS = {
    "orders_search_insert": f"""
        CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
            INSERT INTO orders_search (rowid, {_COLUMNS}) VALUES (new.number, {_NEW});
        END""",
    "orders_search_delete": f"""
        CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
            INSERT INTO orders_search (orders_search, rowid, {_COLUMNS})
            VALUES ('delete', old.number, {_OLD});
        END""",
    "orders_search_update": f"""
        CREATE TRIGGER orders_search_update AFTER UPDATE OF number, {_COLUMNS} ON orders BEGIN
            INSERT INTO orders_search (orders_search, rowid, {_COLUMNS})
            VALUES ('delete', old.number, {_OLD});
            INSERT INTO orders_search (rowid, {_COLUMNS}) VALUES (new.number, {_NEW});
        END""",
}


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    # Made redundant by indexes that start with the same column.
    op.drop_index('ix_orders_status', table_name='orders')  # ix_orders_status_number
    op.drop_index('ix_orders_user_id', table_name='orders')  # ix_orders_user_id_number

    # isProcessed=false (the orders waiting for dispatch) with the default sort, and its count.
    op.create_index('ix_orders_processed_number', 'orders', ['is_processed', 'number'])
    # A user without an order right lists their own orders, newest first; the foreign key.
    op.create_index('ix_orders_user_id_number', 'orders', ['user_id', 'number'])
    # The sorts (each then by id, ties broken in the same direction) and their columns' filters.
    op.create_index('ix_orders_status_rank', 'orders', [sa.text(f'({STATUS_RANK})'), 'id'])
    op.create_index('ix_orders_user_user_name', 'orders', ['user_user_name', 'id'])
    op.create_index('ix_orders_order_total', 'orders', ['order_total', 'id'])
    op.create_index('ix_orders_last_saved_at', 'orders', ['last_saved_at', 'id'])
    # Nullable: lists put nulls lowest, which PostgreSQL's indexes do only when told.
    nulls_lowest = ' NULLS FIRST' if postgresql else ''
    for name, column in (('ix_orders_ticket_name', 'ticket_name'),
                         ('ix_orders_device_name', 'device_name'),
                         ('ix_orders_completed_at', 'completed_at')):
        op.create_index(name, 'orders', [sa.text(column + nulls_lowest), 'id'])

    if postgresql:
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_orders_text_trgm ON orders USING gin ('
                   + ', '.join(f'lower({c}) gin_trgm_ops' for c in SEARCHED) + ')')
    else:
        op.execute(f"CREATE VIRTUAL TABLE orders_search USING fts5({_COLUMNS}, "
                   "content='orders', content_rowid='number', tokenize='trigram')")
        for trigger in TRIGGERS.values():
            op.execute(trigger)
        op.execute("INSERT INTO orders_search (orders_search) VALUES ('rebuild')")
    # Statistics of the new indexes (and on PostgreSQL of the indexed expressions), which the
    # planners choose by: SQLite gathers none by itself, PostgreSQL at its next autovacuum.
    op.execute('ANALYZE orders')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # The extension stays: it may have been there before, for something else.
        op.drop_index('ix_orders_text_trgm', table_name='orders')
    else:
        for name in TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
        op.execute('DROP TABLE orders_search')
    for name in ('ix_orders_completed_at', 'ix_orders_device_name', 'ix_orders_ticket_name',
                 'ix_orders_last_saved_at', 'ix_orders_order_total', 'ix_orders_user_user_name',
                 'ix_orders_status_rank', 'ix_orders_user_id_number',
                 'ix_orders_processed_number'):
        op.drop_index(name, table_name='orders')
    op.create_index('ix_orders_user_id', 'orders', ['user_id'])
    op.create_index('ix_orders_status', 'orders', ['status'])
