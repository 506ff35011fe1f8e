"""the stations' version counter; the change notifications go

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 22:30:00

Every change to any station moves the counter row 'stations' (app.services.stations), which
order answers' ETags and cached texts carry. The notification triggers of 0012 fed a listener
that is gone: screens read the change counter in each poll, through Flask.

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counters, [{"name": "stations", "value": 1}])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS stations_notify_kiosk_links ON stations")
    op.execute("DROP TRIGGER IF EXISTS kiosk_links_notify ON kiosk_links")
    op.execute("DROP FUNCTION IF EXISTS notify_kiosk_links()")
    op.execute("DROP TRIGGER IF EXISTS counters_notify_changes ON counters")
    op.execute("DROP FUNCTION IF EXISTS notify_orders_changes()")


def downgrade():
    op.execute("DELETE FROM counters WHERE name = 'stations'")
    # The triggers of 0012 are not made again: nothing listens for them.
