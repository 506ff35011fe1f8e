"""Writing an updated ticket with plain statements, and giving its objects the written values as
their loaded state, so the transaction has nothing left to flush: the ORM's flush of these two
rows cost more than the statements (app.services.order_rows does the same for new orders)."""
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.models import Ticket, TicketItem, utcnow
from app.plain_sql import PlainStatement

_FIELDS = ("product_code", "quantity", "note", "course")
_TICKETS, _ITEMS = Ticket.__table__, TicketItem.__table__
_UPDATE_TICKET = PlainStatement(
    update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(name=bindparam("new_name"), version=bindparam("new_version"),
            last_saved_at=bindparam("saved_at")))
_UPDATE_ITEM = PlainStatement(
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
    .values({field: bindparam("new_" + field) for field in _FIELDS}))
# Items past the new last position: the surplus, whatever their number.
_DELETE_ITEMS = PlainStatement(delete(_ITEMS).where(_ITEMS.c.ticket_id == bindparam("ticket_id"),
                                                    _ITEMS.c.position > bindparam("last")))
_INSERT_ITEM = PlainStatement(insert(_ITEMS).values(
    {k: bindparam(k) for k in ("ticket_id", "position", *_FIELDS)}).returning(_ITEMS.c.id))


def save_ticket(session, ticket: Ticket, *, name: str, items: list[dict]) -> None:
    """Give the locked, loaded `ticket` its new name, the next version and `items` (each a dict
    of product_code, quantity, note and course), position by position: a row is updated where
    its values differ, and only the surplus is inserted or deleted."""
    connection = session.connection()
    saved = {"name": name, "version": ticket.version + 1, "last_saved_at": utcnow()}
    _UPDATE_TICKET.execute(connection, {"ticket_id": ticket.id, "new_name": saved["name"],
                                        "new_version": saved["version"],
                                        "saved_at": saved["last_saved_at"]})
    old = list(ticket.items)
    kept, surplus = old[:len(items)], old[len(items):]
    changed = [{"item_id": item.id, **{"new_" + f: values[f] for f in _FIELDS}}
               for item, values in zip(kept, items)
               if any(getattr(item, f) != values[f] for f in _FIELDS)]
    if changed:
        _UPDATE_ITEM.execute_many(connection, changed)
    if surplus:
        _DELETE_ITEMS.execute(connection, {"ticket_id": ticket.id, "last": len(items)})
        for item in surplus:
            session.expunge(item)
    added = [{"ticket_id": ticket.id, "position": position, **values}
             for position, values in enumerate(items[len(old):], start=len(old) + 1)]
    new = []
    if added:
        # One statement per item: a ticket gains one or two at a time.
        new = [TicketItem(id=_INSERT_ITEM.execute(connection, row).fetchone()[0], **row)
               for row in added]
        for item in new:
            make_transient_to_detached(item)
            session.add(item)
    # The values given, not those read back: an answer shows 2 for a quantity sent as 2.
    for item, values in zip(kept, items):
        for field in _FIELDS:
            set_committed_value(item, field, values[field])
    for key, value in saved.items():
        set_committed_value(ticket, key, value)
    set_committed_value(ticket, "items", kept + new)
