"""The JSON API under /api (contract 4): thin handlers over the services."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from app.api import auth, baskets, catalog, orders, problems, tickets  # noqa: E402, F401
