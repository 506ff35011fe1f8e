"""the event feed, webhook subscriptions and their deliveries

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-12 10:00:00

events: every change the hub makes to an order, numbered gap-free in commit order (the
sequence is handed out from the counter row `events`, moved with the change counter), with the
order as the API served it then. webhook_subscriptions: an integrator's URL, event types and
encrypted secret, and how far the feed was read for it. webhook_deliveries: one event to post
to one subscription, its attempts, back-off and outcome. Events start at this migration: the
history of earlier changes stays in order_events and is not turned into events.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("order_document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
    )
    op.create_index("ix_events_user_sequence", "events", ["user_id", "sequence"])
    op.create_index("ix_events_order_sequence", "events", ["order_id", "sequence"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("redelivery_of", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_try_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    op.create_index("ix_webhook_deliveries_state_due", "webhook_deliveries",
                    ["state", "next_try_at"])
    op.create_index("ix_webhook_deliveries_order", "webhook_deliveries",
                    ["subscription_id", "order_id", "sequence"])
    op.create_index("ix_webhook_deliveries_subscription", "webhook_deliveries",
                    ["subscription_id", "id"])
    op.execute("INSERT INTO counters (name, value) VALUES ('events', 0)")


def downgrade():
    op.execute("DELETE FROM counters WHERE name = 'events'")
    op.drop_index("ix_webhook_deliveries_subscription", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_order", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_state_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_index("ix_events_order_sequence", table_name="events")
    op.drop_index("ix_events_user_sequence", table_name="events")
    op.drop_table("events")
