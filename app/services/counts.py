"""Live (not deleted) orders per status, kept in step with every change.

The dashboard shows these counts on every refresh; reading five counter rows costs nothing,
where counting a million orders costs a scan. Every writer updates the rows in one fixed order
(sorted by name, after the order-number row and before the change counter), so two writers can
queue on these rows but never deadlock.
"""
from sqlalchemy import select, update

from app import status as S
from app.extensions import db
from app.models import Counter

PREFIX = "orders."


def move(session, before: str | None, after: str | None, count: int = 1) -> None:
    """`count` orders left status `before` and entered `after` (None: created or deleted)."""
    delta: dict[str, int] = {}
    if before:
        delta[before] = delta.get(before, 0) - count
    if after:
        delta[after] = delta.get(after, 0) + count
    for status in sorted(delta):
        if delta[status]:
            session.execute(update(Counter).where(Counter.name == PREFIX + status)
                            .values(value=Counter.value + delta[status]))


def live_counts() -> dict[str, int]:
    rows = db.session.execute(select(Counter.name, Counter.value)
                              .where(Counter.name.in_([PREFIX + s for s in S.ALL]))).all()
    found = {name.removeprefix(PREFIX): value for name, value in rows}
    return {status: found.get(status, 0) for status in S.ALL}
