"""What a database's planner cannot learn from its statistics, told where it matters.

SQLite's statistics (ANALYZE) keep one average per indexed column, no histogram: a status held
by a handful of open orders looks like one held by a million finished ones, so for `status=New`
sorted by number it walks the number index past every finished order, where reading the few
new ones through (status, number) and sorting them costs nothing. `rare(clause)` says that few
rows match: SQLite's `unlikely()`, which its planner weighs as such and which still lets the
clause use an index. PostgreSQL keeps the most common values of each column and their shares,
so it is given the clause alone.
"""
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class Rare(FunctionElement):
    """A condition few rows meet (see the module). A function element, as in SQLAlchemy's
    compiler extension examples: its argument is part of the statement's cache key, and each
    dialect compiles it its own way."""
    # No Boolean type: SQLite, with no boolean of its own, would have it compared with 1, which
    # hides the clause from its planner; untyped, it is written as it is.
    inherit_cache = True


@compiles(Rare)
def _clause_alone(element, compiler, **kw):
    (clause,) = element.clauses
    return compiler.process(clause, **kw)


@compiles(Rare, "sqlite")
def _unlikely(element, compiler, **kw):
    (clause,) = element.clauses
    return "unlikely(" + compiler.process(clause, **kw) + ")"


def rare(clause) -> Rare:
    return Rare(clause)
