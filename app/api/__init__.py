"""The JSON API under /api (contract 4): thin handlers over the services."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from app.api import (  # noqa: F401
    auth,
    baskets,
    catalog,
    events,
    orders,
    problems,
    tickets,
    webhooks,
)
