"""The event feed (contract 8): every change the hub made, in sequence order, with a cursor."""
from flask import current_app, g, jsonify, request

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.serializers import event_json
from app.core import event_types
from app.core.query import FeedSpec, parse_feed
from app.services import events

EVENT_FEED = FeedSpec(types=event_types.ALL, default_take=events.DEFAULT_TAKE,
                      max_take=events.MAX_TAKE)


@bp.get("/events")
@guarded(SIGNED_IN)
def list_events():
    """Events after a sequence number, oldest first, and the cursor to read on from."""
    query = parse_feed(request.args, EVENT_FEED)
    page = events.list_events(user=g.user, after=query.after, take=query.take,
                              types=query.types)
    loads = current_app.json.loads
    return jsonify({"items": [event_json(e, loads(e.order_document)) for e in page.events],
                    "next": page.next})
