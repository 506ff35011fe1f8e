"""What a database's planner cannot learn from its statistics, told where it matters.

SQLite's statistics (ANALYZE) keep one average per indexed column, no histogram: a status held
by a handful of open orders looks like one held by a million finished ones, so for `status=New`
sorted by number it walks the number index past every finished order, where reading the few
new ones through (status, number) and sorting them costs nothing. `rare(clause)` says that few
rows match: SQLite's `unlikely()`, which its planner weighs as such and which still lets the
clause use an index. PostgreSQL keeps the most common values of each column and their shares,
so it is given the clause alone.
"""
from typing import ClassVar

from sqlalchemy import Boolean, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class Rare(ColumnElement):
    """A condition few rows meet (see the module)."""
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals: ClassVar = [("clause", InternalTraversal.dp_clauseelement)]

    def __init__(self, clause):
        self.clause = clause


@compiles(Rare)
def _clause_alone(element, compiler, **kw):
    return compiler.process(element.clause, **kw)


@compiles(Rare, "sqlite")
def _unlikely(element, compiler, **kw):
    return compiler.process(func.unlikely(element.clause), **kw)


def rare(clause) -> Rare:
    return Rare(clause)
