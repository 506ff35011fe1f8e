"""Webhook subscriptions (contract 8): admins name a URL, event types and a secret; the feed's
events of those types are posted there, signed, and each subscription keeps a delivery log."""
from flask import g, jsonify, url_for

from app.api import bp
from app.api.access import guarded
from app.api.bodies import WebhookWrite, expected_version, parse_body
from app.api.serializers import versioned, webhook_delivery_json, webhook_json
from app.core import rights as R
from app.services import webhooks


@bp.get("/webhooks")
@guarded(R.ADMIN)
def list_webhooks():
    return jsonify([webhook_json(s) for s in webhooks.list_subscriptions()])


@bp.post("/webhooks")
@guarded(R.ADMIN)
def create_webhook():
    """Subscribe a URL to event types; it receives the events from now on."""
    body = parse_body(WebhookWrite)
    subscription = webhooks.create_subscription(url=body.url, event_types=body.event_types,
                                                secret=body.secret, is_active=body.is_active)
    response = versioned(webhook_json(subscription), 201)
    response.headers["Location"] = url_for("api.get_webhook", subscription_id=subscription.id)
    return response


@bp.get("/webhooks/<int:subscription_id>")
@guarded(R.ADMIN)
def get_webhook(subscription_id):
    return versioned(webhook_json(webhooks.get_subscription(subscription_id)))


@bp.put("/webhooks/<int:subscription_id>")
@guarded(R.ADMIN)
def update_webhook(subscription_id):
    """Replace a subscription's URL, event types and state; the secret only when given."""
    body = parse_body(WebhookWrite)
    return versioned(webhook_json(webhooks.update_subscription(
        subscription_id, url=body.url, event_types=body.event_types, is_active=body.is_active,
        secret=body.secret, version=expected_version(body.version))))


@bp.delete("/webhooks/<int:subscription_id>")
@guarded(R.ADMIN)
def delete_webhook(subscription_id):
    webhooks.delete_subscription(subscription_id, version=expected_version(None))
    return "", 204


@bp.get("/webhooks/<int:subscription_id>/deliveries")
@guarded(R.ADMIN)
def webhook_deliveries(subscription_id):
    """The subscription's delivery log, newest first (the last 100)."""
    return jsonify([webhook_delivery_json(d)
                    for d in webhooks.list_deliveries(subscription_id)])


@bp.post("/webhooks/<int:subscription_id>/deliveries/<delivery_id>/redeliver")
@guarded(R.ADMIN)
def create_redelivery(subscription_id, delivery_id):
    """Send a delivery's event again, as a new delivery with a new delivery id; it goes out
    after the answer, so the answer is 202."""
    delivery = webhooks.redeliver(subscription_id=subscription_id, delivery_id=delivery_id,
                                  user_name=g.user.user_name)
    return jsonify(webhook_delivery_json(delivery)), 202
