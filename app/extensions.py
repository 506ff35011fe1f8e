"""Extensions, created unbound and initialised in create_app()."""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Services return the objects they wrote; expiring them on commit would reload each one.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def process_cache(app, name: str, make, setting: str, default_budget: int):
    """The cache `name` of this process for `app` (each app, and so each database, has its own),
    made on first use as `make(budget)`, the budget in bytes from the setting `setting`."""
    cache = app.extensions.get(name)
    if cache is None:
        budget = app.config.get(setting, default_budget)
        cache = app.extensions.setdefault(name, make(budget))
    return cache
