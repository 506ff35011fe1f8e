"""live orders per isVoid, per source and per station, as counter rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 16:00:00

"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# The names app.services.counts gives these rows, written out: a migration must not change
# meaning when the application code does.
LIVE = "FROM orders WHERE deleted_at IS NULL"


def upgrade():
    # Start from what the database holds, so an upgrade of a live database counts right; the
    # services move the rows from now on (a station's row is made by its first order). A few
    # seconds at a million orders.
    op.execute("INSERT INTO counters (name, value) SELECT 'orders.isVoid.' || CASE WHEN is_void "
               f"THEN 'true' ELSE 'false' END, COUNT(*) {LIVE} GROUP BY is_void")
    op.execute("INSERT INTO counters (name, value) SELECT 'orders.source.' || source, COUNT(*) "
               f"{LIVE} GROUP BY source")
    # An order has one entry per station it is routed to.
    op.execute("INSERT INTO counters (name, value) "
               "SELECT 'orders.station.' || CAST(order_entries.station_id AS VARCHAR), COUNT(*) "
               "FROM order_entries JOIN orders ON orders.id = order_entries.order_id "
               "WHERE orders.deleted_at IS NULL GROUP BY order_entries.station_id")


def downgrade():
    op.execute("DELETE FROM counters WHERE name LIKE 'orders.isVoid.%' "
               "OR name LIKE 'orders.source.%' OR name LIKE 'orders.station.%'")
