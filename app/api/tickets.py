"""Ticket routes (contract 3.1)."""
from flask import g, jsonify, request, url_for

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.bodies import TicketClose, TicketWrite, expected_version, parse_body
from app.api.serializers import query_result, ticket_json, versioned, written_ticket_json
from app.core import order_types
from app.core import rights as R
from app.core.modifiers import Modifier
from app.core.query import parse_includes, parse_query
from app.services import tickets


def lines_of(body: TicketWrite) -> list[tickets.LineInput]:
    return [tickets.LineInput(product_code=i.product_code, quantity=i.quantity, note=i.note,
                              course=i.course,
                              modifiers=tuple(Modifier(m.name, m.quantity) for m in i.modifiers),
                              allergies=tuple(str(a) for a in i.allergies))
            for i in body.items]


def _ticket_response(ticket, status: int = 200):
    return versioned(ticket_json(ticket), status)


@bp.get("/tickets")
@guarded(SIGNED_IN)
def list_tickets():
    query = parse_query(request.args, tickets.TICKET_QUERY)
    found, total = tickets.list_tickets(user=g.user, query=query)
    if query.count:
        return jsonify({"count": total, "totalCount": total})
    return jsonify(query_result([ticket_json(t) for t in found], total))


@bp.get("/tickets/<ticket_id>")
@guarded(SIGNED_IN)
def get_ticket(ticket_id):
    parse_includes(request.args)
    ticket = tickets.get_ticket(user=g.user, ticket_id=ticket_id)
    return _ticket_response(ticket).make_conditional(request)


@bp.post("/tickets")
@guarded(R.TICKET_CREATE)
def create_ticket():
    body = parse_body(TicketWrite)
    ticket, orders = tickets.create_ticket(
        user=g.user, device=g.credential.device, name=body.name, lines=lines_of(body),
        is_rush=bool(body.is_rush), order_type=body.order_type or order_types.DEFAULT)
    response = versioned(written_ticket_json(ticket, orders), 201)
    response.headers["Location"] = url_for("api.get_ticket", ticket_id=ticket.id)
    return response


@bp.put("/tickets/<ticket_id>")
@guarded(R.TICKET_UPDATE)
def update_ticket(ticket_id):
    body = parse_body(TicketWrite)
    ticket, orders = tickets.update_ticket(
        user=g.user, device=g.credential.device, ticket_id=ticket_id, name=body.name,
        lines=lines_of(body), version=expected_version(body.version), is_rush=body.is_rush,
        order_type=body.order_type)
    return versioned(written_ticket_json(ticket, orders))


@bp.post("/tickets/<ticket_id>/close")
@guarded(R.TICKET_UPDATE)
def close_ticket(ticket_id):
    # No body means no version named; a body that is sent must be a JSON object.
    body = parse_body(TicketClose, request.get_json(silent=True) if request.get_data() else {})
    return _ticket_response(tickets.close_ticket(user=g.user, ticket_id=ticket_id,
                                                 version=expected_version(body.version)))
