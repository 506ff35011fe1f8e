"""What a database error means for the request that met it: the one place that reads driver
errors. The API (app.api.problems) and the pages (app.web.errors) choose their answers from it.

- "locked": a lock not had in time (PostgreSQL's lock_timeout, a deadlock; SQLite busy): 423,
  try again shortly; nothing was written.
- "unavailable": the connection was lost or reset, or a statement ran past statement_timeout:
  503 with Retry-After; the transaction was rolled back with the connection.
- None: a bug or a schema problem; the caller answers 500 and logs the traceback.
"""
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.extensions import db

# PostgreSQL SQLSTATEs (psycopg's Error.sqlstate).
LOCKED_STATES = {"55P03", "40P01"}  # lock_not_available, deadlock_detected
UNAVAILABLE_STATES = {"57014",  # query_canceled: statement_timeout
                      "57P01", "57P02", "57P03",  # admin/crash shutdown, cannot connect now
                      "08000", "08003", "08006"}  # connection exception, does not exist, failure
SQLITE_LOCKED = ("database is locked", "database table is locked", "database is busy")

RETRY_AFTER_SECONDS = 1


def failure_kind(error: Exception) -> str | None:
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return "unavailable"
    original = error.orig
    state = getattr(original, "sqlstate", None)
    if state in LOCKED_STATES:
        return "locked"
    if state in UNAVAILABLE_STATES or (state or "").startswith("08"):
        return "unavailable"
    if state is None and any(text in str(original).lower() for text in SQLITE_LOCKED):
        return "locked"
    return None


def reason(error: DBAPIError) -> str:
    """The driver's first line (lock timeout, deadlock, connection lost), never the SQL."""
    text = str(getattr(error, "orig", error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def release_session() -> None:
    """End the failed transaction, so drawing the error answer (which may read the signed-in
    user) starts a fresh one on a working connection instead of failing again."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()
