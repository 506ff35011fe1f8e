"""The orders hub: create_app() reads as the table of contents of the product."""
import os

from flask import Flask

from app.config import load_config
from app.db.engine import engine_options, install_sqlite_hooks
from app.extensions import csrf, db, login_manager, migrate
from app.http.json import OrdersJSONProvider
from app.http.limits import register_limits
from app.http.logs import register_request_logs
from app.http.security import register_security


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path, overrides))
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config))
    app.json = OrdersJSONProvider(app)
    register_request_logs(app)  # first, so every request has its id before anything refuses it
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_limits(app)
    register_commands(app)
    register_dispatch(app)
    return app


def register_extensions(app: Flask) -> None:
    # Every module of tables, so migrations see them all.
    from app import models  # noqa: F401
    from app.http import idempotency  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        install_sqlite_hooks(db.engine)


def register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.api import openapi  # noqa: F401  (GET /api/openapi.json)
    from app.http import health
    from app.web import api_docs, register_views

    # The API authenticates with bearer tokens, never cookies, so CSRF cannot apply to it.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health.bp)
    register_views(app)
    app.register_blueprint(api_docs.bp)


def register_dispatch(app: Flask) -> None:
    from app.dispatch import worker

    worker.init_app(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
