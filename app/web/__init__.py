"""HTML blueprints: the dashboard. Handlers translate; the services decide."""
from flask import Flask
from flask_login import current_user

from app.core import rights as R
from app.core import status as S
from app.dispatch.slips import SETTINGS
from app.extensions import login_manager
from app.services.users import load_session_user


def register_views(app: Flask) -> None:
    from app.web import admin, auth, errors, kiosk, orders

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.user_loader(load_session_user)
    app.register_blueprint(auth.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(kiosk.bp)
    errors.register(app)
    app.add_template_filter(S.aggregate, "aggregate_status")
    app.jinja_env.globals["printer_settings"] = SETTINGS  # the station form's hint

    @app.context_processor
    def viewer():
        # What the signed-in user may see in the navigation; every page and button is still
        # checked again on the server.
        if not current_user.is_authenticated:
            return {"viewer": {"is_admin": False, "sees_all": False}}
        rights = current_user.rights
        return {"viewer": {"is_admin": R.ADMIN in rights, "sees_all": R.sees_all_orders(rights)}}
