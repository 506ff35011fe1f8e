"""on PostgreSQL, notify listeners of the change counter and of kiosk link changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 10:00:00

Each server process listened (a change feed, removed in 0014) so the kiosk's idle poll can answer from memory
instead of a round trip per poll. PostgreSQL delivers notifications at commit, in commit order,
so a listener's last value is the committed one. Every write already updates the 'changes' row,
which serialises writers on that row lock; the notification adds no new point of contention.
SQLite has no such mechanism; there the poll keeps reading the database.

"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The channel names app.change_feed listens on, written out (see 0011 on why).
CHANGES_CHANNEL = "orders_changes"
LINKS_CHANNEL = "kiosk_links"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE FUNCTION notify_orders_changes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANGES_CHANNEL}', NEW.value::text);
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER counters_notify_changes AFTER INSERT OR UPDATE ON counters "
               "FOR EACH ROW WHEN (NEW.name = 'changes') EXECUTE FUNCTION notify_orders_changes()")
    # Listeners drop every cached link on any change to links or stations (a rename changes a
    # link's screen): rare admin edits, so no finer payload is needed. Per statement, so a
    # TRUNCATE is heard too.
    op.execute(f"""
        CREATE FUNCTION notify_kiosk_links() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{LINKS_CHANNEL}', '');
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER kiosk_links_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
               "ON kiosk_links FOR EACH STATEMENT EXECUTE FUNCTION notify_kiosk_links()")
    op.execute("CREATE TRIGGER stations_notify_kiosk_links AFTER UPDATE OR DELETE OR TRUNCATE "
               "ON stations FOR EACH STATEMENT EXECUTE FUNCTION notify_kiosk_links()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS stations_notify_kiosk_links ON stations")
    op.execute("DROP TRIGGER IF EXISTS kiosk_links_notify ON kiosk_links")
    op.execute("DROP FUNCTION IF EXISTS notify_kiosk_links()")
    op.execute("DROP TRIGGER IF EXISTS counters_notify_changes ON counters")
    op.execute("DROP FUNCTION IF EXISTS notify_orders_changes()")
