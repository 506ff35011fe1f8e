"""What of the migrated schema the models describe, for comparing the two (autogenerate,
tests/test_migrations.py).

Three things differ by design: the full-text table SQLite has for text search (and the shadow
tables FTS5 keeps beside it), which is no model; indexes made on one database only
(app.models.orders), each marked with `info["dialect"]`; and indexes on an expression, which
SQLite cannot read back and PostgreSQL reads back in its own words (casts, an ELSE), so no
comparison of texts can match them. tests/test_migrations.py checks those exist instead.
"""
from app.models.orders import ORDER_SEARCH

# Indexes on expressions, by name.
EXPRESSION_INDEXES = frozenset({"ix_orders_status_rank"})


def include_object(dialect_name: str):
    """Alembic's include_object hook for a database of this dialect."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and name and name.startswith(ORDER_SEARCH.name):
            return False
        if type_ == "index" and name in EXPRESSION_INDEXES:
            return False
        if type_ == "index" and not reflected:
            return obj.info.get("dialect", dialect_name) == dialect_name
        return True

    return include
