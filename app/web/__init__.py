"""HTML blueprints: the dashboard. Handlers translate; the services decide."""
from flask import Flask, redirect, url_for
from flask_login import current_user

from app.core import rights as R
from app.core import station_settings
from app.core import status as S
from app.extensions import login_manager
from app.services.users import load_session_user
from app.web.times import local_time, viewer_zone_name

# How a customer reads an order's status: one word for the whole order, none of the floor's.
CUSTOMER_STATUS = {S.NEW: "Received", S.PROCESSING: "In progress", S.READY: "Ready",
                   S.COMPLETED: "Completed", S.CANCELLED: "Cancelled"}


def register_views(app: Flask) -> None:
    from app.web import account, admin, auth, board, errors, kiosk, orders, webhooks

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)
    login_manager.unauthorized_handler(errors.sign_in_first)
    app.register_blueprint(auth.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(kiosk.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(webhooks.bp)
    errors.register(app)
    app.add_template_filter(S.aggregate, "aggregate_status")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(CUSTOMER_STATUS.get, "customer_status")
    app.jinja_env.globals["station_settings"] = station_settings  # the station form
    app.jinja_env.globals["viewer_zone_name"] = viewer_zone_name

    # Browsers ask for /favicon.ico on pages that name no icon (JSON, plain errors).
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: redirect(url_for("static", filename="favicon.svg"), code=301))

    @app.context_processor
    def viewer():
        # What the signed-in user may see in the navigation; every page and button is still
        # checked again on the server.
        if not current_user.is_authenticated:
            return {"viewer": {"is_admin": False, "sees_all": False, "is_customer": False}}
        rights = current_user.rights
        return {"viewer": {"is_admin": R.ADMIN in rights, "sees_all": R.sees_all_orders(rights),
                           "is_customer": R.is_customer(rights)}}
