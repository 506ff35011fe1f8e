"""The JSON shape of each model, defined once (contract 2)."""
from collections import defaultdict

from flask import current_app, jsonify

from app.core import status as S
from app.core.modifiers import plain
from app.http.json import format_datetime as dt


def user_summary(user_name: str, name: str) -> dict:
    return {"userName": user_name, "name": name}


def history_json(event) -> dict:
    return {
        "at": dt(event.at), "action": event.action, "level": event.level,
        "target": event.target, "fromStatus": event.from_status, "toStatus": event.to_status,
        "userName": event.user_name, "detail": event.detail,
    }


def order_json(order, *, include_history: bool = False) -> dict:
    cells_by_item, cells_by_entry = defaultdict(list), defaultdict(list)
    for cell in order.cells:
        cells_by_item[cell.item_id].append(cell)
        cells_by_entry[cell.entry_id].append(cell)
    station_of = {entry.id: entry.station for entry in order.entries}
    items = []
    for item in order.items:
        cells = cells_by_item[item.id]
        items.append({
            "id": item.item_no, "productCode": item.product_code, "name": item.name,
            "quantity": item.quantity, "unitPrice": item.unit_price, "total": item.total,
            "note": item.note, "course": item.course, "projectGuid": item.project_guid,
            "status": S.aggregate(c.status for c in cells),
            "endpoints": [{"name": station_of[c.entry_id].name, "status": c.status}
                          for c in cells],
            "firedDateUtc": dt(item.fired_at), "startDateUtc": dt(item.start_at),
            "modifiers": modifiers_json(item.modifiers), "allergies": list(item.allergies),
            "allergens": list(item.allergens),
        })
    item_no = {item.id: item.item_no for item in order.items}
    endpoints = []
    for entry in order.entries:
        cells = cells_by_entry[entry.id]
        endpoints.append({
            "name": entry.station.name, "status": S.aggregate(c.status for c in cells),
            "isActive": entry.station.is_active, "processedDateUtc": dt(entry.processed_at),
            "itemIds": sorted(item_no[c.item_id] for c in cells),
        })
    body = {
        "id": order.id, "number": order.number, "_v": order.version, "source": order.source,
        "ticket": {"id": order.ticket_id, "name": order.ticket_name} if order.ticket_id
        else None,
        "device": {"name": order.device_name} if order.device_name else None,
        "user": user_summary(order.user_user_name, order.user_name),
        "status": order.status, "isProcessed": order.is_processed,
        "isProcessable": order.status != S.CANCELLED and any(
            e.processed_at is None and e.station.is_active for e in order.entries),
        "isVoid": order.is_void, "isRush": order.is_rush, "orderType": order.order_type,
        "currency": order.currency,
        "subTotal": order.sub_total, "discountTotal": order.discount_total,
        "shippingTotal": order.shipping_total, "orderTotal": order.order_total,
        "shippingMethod": order.shipping_method, "shippingAddress": order.shipping_address,
        "note": order.note, "createdDateUtc": dt(order.created_at),
        "lastSavedDateUtc": dt(order.last_saved_at),
        "completedDateUtc": dt(order.completed_at),
        "items": items, "endpoints": endpoints,
    }
    if include_history:
        body["history"] = [history_json(e) for e in order.history]
    return body


def modifiers_json(modifiers) -> list[dict]:
    return [{"name": m.name, "quantity": plain(m.quantity)} for m in modifiers or ()]


def event_json(event, order: dict) -> dict:
    """An event of the feed; `order` is its order document, read from the stored text."""
    return {"sequence": event.sequence, "type": event.type,
            "occurredDateUtc": dt(event.occurred_at),
            "actor": {"userName": event.actor} if event.actor else None, "order": order}


def webhook_json(subscription) -> dict:
    # The secret is write-only: never part of an answer.
    return {"id": subscription.id, "url": subscription.url,
            "eventTypes": list(subscription.event_types), "isActive": subscription.is_active,
            "createdDateUtc": dt(subscription.created_at), "_v": subscription.version}


def webhook_delivery_json(delivery) -> dict:
    return {"id": delivery.id, "deliveryId": delivery.delivery_id,
            "redeliveryOf": delivery.redelivery_of, "sequence": delivery.sequence,
            "eventType": delivery.event_type, "orderId": delivery.order_id,
            "state": delivery.state, "attempts": delivery.attempts,
            "nextTryDateUtc": dt(delivery.next_try_at),
            "lastTryDateUtc": dt(delivery.last_try_at),
            "lastStatusCode": delivery.last_status_code, "lastError": delivery.last_error,
            "requestedBy": delivery.requested_by, "createdDateUtc": dt(delivery.created_at),
            "finishedDateUtc": dt(delivery.finished_at)}


def ticket_json(ticket) -> dict:
    """A ticket: a Ticket object, or a ticket as app.services.ticket_rows reads and writes it."""
    return {
        "id": ticket.id, "name": ticket.name,
        "device": {"name": ticket.device_name} if ticket.device_name else None,
        "user": user_summary(ticket.user_user_name, ticket.user_name),
        "items": [{"productCode": i.product_code, "quantity": i.quantity, "note": i.note,
                   "course": i.course, "modifiers": modifiers_json(i.modifiers),
                   "allergies": list(i.allergies)} for i in ticket.items],
        "isRush": ticket.is_rush, "orderType": ticket.order_type, "isClosed": ticket.is_closed,
        "_v": ticket.version,
        "createdDateUtc": dt(ticket.created_at), "lastSavedDateUtc": dt(ticket.last_saved_at),
    }


def written_ticket_json(ticket, orders) -> dict:
    """A ticket just created or updated, with the orders that write generated."""
    return {**ticket_json(ticket), "generatedOrders": [
        {"id": o.id, "number": o.number, "isVoid": o.is_void} for o in orders]}


def product_json(product) -> dict:
    return {"code": product.code, "name": product.name, "price": product.price,
            "stationNames": [s.name for s in product.stations], "course": product.course,
            "prepSeconds": product.prep_seconds, "allergens": list(product.allergens or ()),
            "_v": product.version}


def station_json(station, health) -> dict:
    """`health` is the station's app.services.station_health.Health. The secret is
    write-only (contract 2.2): never part of an answer."""
    return {"name": station.name, "isActive": station.is_active, "type": station.type,
            "address": station.address, "settings": dict(station.settings or {}),
            "backupStationName": station.backup.name if station.backup else None,
            "health": {"screens": health.screens, "lastSeenDateUtc": dt(health.last_seen),
                       "failing": health.alarm},
            "_v": station.version}


def delivery_json(delivery) -> dict:
    return {"id": delivery.id, "deliveryId": delivery.delivery_id, "orderId": delivery.order_id,
            "orderNumber": delivery.order_number, "kind": delivery.kind,
            "attempt": delivery.attempt, "startedDateUtc": dt(delivery.started_at),
            "durationMs": delivery.duration_ms, "statusCode": delivery.status_code,
            "ok": delivery.ok, "error": delivery.error}


def signed_in_user_json(user, device) -> dict:
    return {"id": user.id, "userName": user.user_name, "name": user.name,
            "rights": user.rights, "device": {"name": device.name} if device else None}


def query_result(items: list, total: int) -> dict:
    return {"items": items, "count": len(items), "totalCount": total}


def compact_json(body) -> str:
    """`body` as jsonify writes it when compact (always, unless debugging), without the
    newline it ends with."""
    return current_app.json.dumps(body, separators=(",", ":"))


def query_result_response(documents: list[str], total: int):
    """The answer jsonify(query_result(items, total)) gives, byte for byte, from items already
    written by compact_json: the items are joined as text, never parsed or written again."""
    provider = current_app.json
    if (provider.compact is None and current_app.debug) or provider.compact is False:
        # Indented for a developer's eyes: read the items back (numbers read back exactly).
        return jsonify(query_result([provider.loads(d) for d in documents], total))
    text = (f'{{"items":[{",".join(documents)}],"count":{len(documents)},'
            f'"totalCount":{total}}}\n')
    return current_app.response_class(text, mimetype=provider.mimetype)


def project_json(project) -> dict:
    return {"guid": project.guid, "name": project.name, "productCode": project.product_code,
            "createdDateUtc": dt(project.created_at)}


def basket_json(basket, prices: dict) -> dict:
    lines, total = [], 0
    for line in basket.lines:
        line_total = line.quantity * prices.get(line.product_code, 0)
        total += line_total
        lines.append({"id": line.id, "projectGuid": line.project_guid,
                      "productCode": line.product_code, "quantity": line.quantity,
                      "total": line_total})
    return {"guid": basket.guid, "lines": lines, "createdDateUtc": dt(basket.created_at),
            "lastSavedDateUtc": dt(basket.last_saved_at), "orderTotal": total}


def versioned(body: dict, status: int = 200, *, also=None):
    """The answer for one versioned resource: its JSON, with an ETag of its `_v` (5.3), as
    `"<_v>"`, or `"<_v>-<also>"` when the body shows more than the resource's own fields (an
    order shows its stations). If-Match reads the `_v` before the dash
    (app.api.bodies.expected_version)."""
    response = jsonify(body)
    response.status_code = status
    response.set_etag(str(body["_v"]) if also is None else f"{body['_v']}-{also}")
    return response
