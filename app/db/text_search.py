"""A LIKE that each database answers through an index made for it (docs/queries.md).

PostgreSQL serves `lower(column) LIKE '%text%'` from a pg_trgm index on lower(column), as it
is written. SQLite's B-trees cannot serve a LIKE that starts with %, so there the statement
first asks a full-text table with the trigram tokenizer for the candidate rows, and the LIKE
decides among them. The trigram index folds case in Unicode, LIKE in ASCII only, so the
candidates are a superset of the rows the LIKE matches and the answer is the LIKE's, exactly.
"""
from sqlalchemy import and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# A trigram index finds nothing in a text shorter than a trigram: such a LIKE is left to read
# every row.
MIN_INDEXED_LENGTH = 3


def match_phrase(text: str) -> str:
    """An FTS5 query matching `text` anywhere, every character literal: with the trigram
    tokenizer a quoted phrase is a run of consecutive trigrams, that is a substring."""
    return '"' + text.replace('"', '""') + '"'


class IndexedLike(FunctionElement):
    """`like`, and on SQLite `candidates AND like`; `candidates` names every row `like` can
    match (through the full-text index). A function element, as in SQLAlchemy's compiler
    extension examples: both clauses are part of the statement's cache key."""
    # No Boolean type: SQLite, with no boolean of its own, would have it compared with 1, which
    # hides the clause from its planner; untyped, it is written as it is.
    inherit_cache = True

    def __init__(self, like, candidates):
        super().__init__(like, candidates)


@compiles(IndexedLike)
def _like_alone(element, compiler, **kw):
    like, _ = element.clauses
    return compiler.process(like, **kw)


@compiles(IndexedLike, "sqlite")
def _candidates_then_like(element, compiler, **kw):
    like, candidates = element.clauses
    return "(" + compiler.process(and_(candidates, like), **kw) + ")"
