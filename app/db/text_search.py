"""A LIKE that each database answers through an index made for it (docs/queries.md).

PostgreSQL serves `lower(column) LIKE '%text%'` from a pg_trgm index on lower(column), as it
is written. SQLite's B-trees cannot serve a LIKE that starts with %, so there the statement
first asks a full-text table with the trigram tokenizer for the candidate rows, and the LIKE
decides among them. The trigram index folds case in Unicode, LIKE in ASCII only, so the
candidates are a superset of the rows the LIKE matches and the answer is the LIKE's, exactly.
"""
from typing import ClassVar

from sqlalchemy import Boolean, and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

# A trigram index finds nothing in a text shorter than a trigram: such a LIKE is left to read
# every row.
MIN_INDEXED_LENGTH = 3


def match_phrase(text: str) -> str:
    """An FTS5 query matching `text` anywhere, every character literal: with the trigram
    tokenizer a quoted phrase is a run of consecutive trigrams, that is a substring."""
    return '"' + text.replace('"', '""') + '"'


class IndexedLike(ColumnElement):
    """`like`, and on SQLite `candidates AND like`; `candidates` names every row `like` can
    match (through the full-text index)."""
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals: ClassVar = [("like", InternalTraversal.dp_clauseelement),
                                     ("candidates", InternalTraversal.dp_clauseelement)]

    def __init__(self, like, candidates):
        self.like = like
        self.candidates = candidates


@compiles(IndexedLike)
def _like_alone(element, compiler, **kw):
    return compiler.process(element.like, **kw)


@compiles(IndexedLike, "sqlite")
def _candidates_then_like(element, compiler, **kw):
    return "(" + compiler.process(and_(element.candidates, element.like), **kw) + ")"
