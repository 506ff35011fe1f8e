"""Order routes (contract 4.1)."""
from flask import g, jsonify, request

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.bodies import (
    CourseFire,
    ProcessOrders,
    RushChange,
    StatusChange,
    expected_version,
    parse_body,
)
from app.api.serializers import (
    compact_json,
    history_json,
    order_json,
    query_result,
    query_result_response,
    versioned,
)
from app.caching.order_documents import order_documents
from app.core import rights as R
from app.core.query import parse_includes, parse_query
from app.http.etags import etag_of, not_modified, tagged
from app.services import (
    courses,
    dispatch,
    history,
    order_rush,
    order_status,
    orders,
    processing,
)


def order_response(order, status: int = 200, *, include_history: bool = False):
    """The order with an ETag of its `_v` and of its stations' version: the answer shows the
    stations' names and isActive, which change without the order's `_v`. With its history the
    tag also names the last history line: a failed delivery adds one without moving `_v`, and
    an answer with history must never match a tag of one without."""
    also = history.versions()[1]
    if include_history:
        also = f"{also}-h{order.history[-1].id if order.history else 0}"
    return versioned(order_json(order, include_history=include_history), status, also=also)


@bp.get("/orders")
@guarded(SIGNED_IN)
def list_orders():
    query = parse_query(request.args, orders.ORDER_QUERY)
    # What decides the answer: every order's state and its stations' (the two versions), which
    # orders the caller sees, and the query.
    etag = etag_of("orders", history.versions(), orders.owner_of(g.user),
                   request.query_string)
    unchanged = not_modified(etag, vary=("Authorization",))
    if unchanged is not None:
        return unchanged
    return tagged(_order_list(query), etag, vary=("Authorization",))


def _order_list(query):
    if query.count:
        total = orders.count_orders(user=g.user, query=query)
        return jsonify({"count": total, "totalCount": total})
    if "history" in query.include:
        found, total = orders.list_orders(user=g.user, query=query)
        return jsonify(query_result([order_json(o, include_history=True) for o in found],
                                    total))
    keys, total = orders.list_order_keys(user=g.user, query=query)
    return query_result_response(
        order_documents(keys, lambda order: compact_json(order_json(order))), total)


@bp.get("/orders/<order_id>")
@bp.get("/order/<order_id>")  # the print-shop source's spelling of the same read
@guarded(SIGNED_IN)
def get_order(order_id):
    with_history = "history" in parse_includes(request.args, orders.ORDER_QUERY.includes)
    order = orders.get_order(user=g.user, order_id=order_id, include_history=with_history)
    # Answers 304 when If-None-Match names the current state.
    return order_response(order, include_history=with_history).make_conditional(request)


@bp.post("/orders")
@guarded(R.ORDER_PROCESS)
def process_orders():
    body = parse_body(ProcessOrders)
    changed = processing.process_orders(user=g.user, order_ids=body.order_ids)
    return jsonify([order_json(o) for o in changed])


@bp.post("/orders/<order_id>/status")
@guarded(R.ORDER_UPDATE)
def set_order_status(order_id):
    body = parse_body(StatusChange)
    return order_response(order_status.set_order_status(
        user=g.user, order_id=order_id, status=body.status,
        version=expected_version(body.version)))


@bp.post("/orders/<order_id>/rush")
@guarded(R.ORDER_UPDATE)
def set_order_rush(order_id):
    """Mark the order rush (first on every station screen and the expo), or clear the mark."""
    body = parse_body(RushChange)
    return order_response(order_rush.set_order_rush(
        user=g.user, order_id=order_id, is_rush=body.is_rush,
        version=expected_version(body.version)))


@bp.post("/orders/<order_id>/items/<int:item_id>/status")
@guarded(R.ORDER_UPDATE)
def set_item_status(order_id, item_id):
    body = parse_body(StatusChange)
    return order_response(order_status.set_item_status(
        user=g.user, order_id=order_id, item_id=item_id, status=body.status,
        version=expected_version(body.version)))


@bp.post("/orders/<order_id>/endpoints/<endpoint_name>/status")
@guarded(R.ORDER_UPDATE)
def set_endpoint_status(order_id, endpoint_name):
    body = parse_body(StatusChange)
    return order_response(order_status.set_entry_status(
        user=g.user, order_id=order_id, station_name=endpoint_name, status=body.status,
        version=expected_version(body.version)))


@bp.post("/orders/<order_id>/courses/<int:course>/fire")
@guarded(R.ORDER_PROCESS)
def fire_course(order_id, course):
    """Fire a course: its items held at stations that hold courses may be started."""
    # No body means no version named (If-Match may name one); a body sent must be an object.
    body = parse_body(CourseFire, request.get_json(silent=True) if request.get_data() else {})
    return order_response(courses.fire_course(
        user=g.user, order_id=order_id, course=course,
        version=expected_version(body.version)))


@bp.post("/orders/<order_id>/endpoints/<endpoint_name>/reprint")
@guarded(R.ORDER_PROCESS)
def reprint_order(order_id, endpoint_name):
    """Queue a reprint of the order's slip at a printer or webhook station; it goes out after
    the answer, so the answer is 202."""
    order = dispatch.reprint(user=g.user, order_id=order_id, station_name=endpoint_name)
    return order_response(order, 202)


@bp.delete("/orders/<order_id>")
@guarded(R.ORDER_DELETE)
def delete_order(order_id):
    orders.delete_order(user=g.user, order_id=order_id, version=expected_version(None))
    return "", 204


@bp.get("/orders/<order_id>/history")
@guarded(SIGNED_IN)
def order_history(order_id):
    return jsonify([history_json(e) for e in orders.get_history(user=g.user,
                                                                 order_id=order_id)])
