"""Admin pages of webhook subscriptions: the list, a form to add one, and each subscription's
delivery log with a Redeliver button (every form carries its CSRF token)."""
from flask import Blueprint, flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField

from app.core import event_types as T
from app.services import webhooks
from app.web.admin import CheckboxesField, admin_required, attempt
from app.web.forms import EmptyForm, require_submitted
from app.web.htmx import redirect, render

bp = Blueprint("webhooks", __name__)


class WebhookForm(FlaskForm):
    url = StringField("URL")
    event_types = CheckboxesField("Events", choices=list(T.ALL), default=list(T.ALL))
    secret = PasswordField("Secret")
    is_active = BooleanField("Active", default=True)


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@admin_required
def webhooks_page():
    form, errors, status = WebhookForm(), [], 200
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: webhooks.create_subscription(
            url=(form.url.data or "").strip(), event_types=form.event_types.data,
            secret=form.secret.data or None, is_active=form.is_active.data))
        if created:
            flash(f"Webhook {created.url} was added; it receives events from now on.")
            return redirect(url_for("webhooks.webhook_page", subscription_id=created.id))
    return render("admin/webhooks.html", status=status, form=form, errors=errors,
                  subscriptions=webhooks.list_subscriptions())


@bp.get("/admin/webhooks/<int:subscription_id>")
@admin_required
def webhook_page(subscription_id):
    subscription = webhooks.get_subscription(subscription_id)
    return render("admin/webhook.html", subscription=subscription, form=EmptyForm(),
                  deliveries=webhooks.list_deliveries(subscription_id))


@bp.post("/admin/webhooks/<int:subscription_id>/deliveries/<delivery_id>/redeliver")
@admin_required
def redeliver(subscription_id, delivery_id):
    require_submitted()
    again = webhooks.redeliver(subscription_id=subscription_id, delivery_id=delivery_id,
                               user_name=current_user.user_name)
    flash(f"Event {again.sequence} will be delivered again (delivery {again.delivery_id}).")
    return redirect(url_for("webhooks.webhook_page", subscription_id=subscription_id))
