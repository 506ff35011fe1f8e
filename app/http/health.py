"""`GET /health`: is this process up, and can it reach its database? For load balancers,
container probes and `make serve`'s operators. Public, never cached, never rate-limited."""
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.http.security import allow_plain_http

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        log.exception("health check: the database is unreachable")
        db.session.rollback()
        return False


@bp.get("/health")
@allow_plain_http
def health():
    ok = database_reachable()
    response = jsonify({"status": "ok" if ok else "unavailable",
                        "database": "ok" if ok else "unreachable"})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
