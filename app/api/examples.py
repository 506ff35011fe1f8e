"""Examples for the API reference: request bodies and answers per schema, and NData queries.

app.api.description puts them into the OpenAPI description (a schema's `examples`, the query
section of its introduction), and /api-docs shows them from there. tests/test_openapi.py checks
every body and answer against its schema and its pydantic model, and sends every query to the
app, so an example that stops being true fails a test. The names are the demo data's
(`flask seed-demo`), so each can be tried as it stands.
"""
from app.api import bodies as B
from app.api import schemas as S

ORDER_ID = "6f1c2a9e-3b7d-4c61-9a0e-5d2f8b4c7a13"
TICKET_ID = "0b8e4f2a-91c3-4d7e-8f65-2a1c9e7b3d40"
PROJECT_GUID = "c3a7e5d1-2f4b-4e8a-b6c9-7d1e0f2a3b54"
BASKET_GUID = "9d2b6c4e-7a1f-4b3d-8e5c-1f0a2b3c4d65"
SAVED = "2026-11-24T12:04:31.250Z"

ORDER = {
    "id": ORDER_ID, "number": 1042, "_v": 3, "source": "ticket",
    "ticket": {"id": TICKET_ID, "name": "Table 4"}, "device": {"name": "POS-1"},
    "user": {"userName": "waiter", "name": "Wendy"},
    "status": "Processing", "isProcessed": True, "isProcessable": False, "isVoid": False,
    "isRush": True, "orderType": "takeout", "currency": "EUR", "subTotal": 28.2, "discountTotal": 0, "shippingTotal": 0,
    "orderTotal": 28.2, "shippingMethod": None, "shippingAddress": None, "note": None,
    "createdDateUtc": "2026-11-24T12:01:07.512Z", "lastSavedDateUtc": SAVED,
    "completedDateUtc": None,
    "items": [
        {"id": 1, "productCode": "BURGER", "name": "Cheeseburger", "quantity": 2,
         "unitPrice": 12.5, "total": 25, "note": "no onions", "course": 2,
         "projectGuid": None, "status": "Processing",
         "endpoints": [{"name": "Kitchen", "status": "Ready"},
                       {"name": "Pass", "status": "Processing"}],
         "firedDateUtc": "2026-11-24T12:01:07.512Z",
         "startDateUtc": "2026-11-24T12:01:07.512Z",
         "modifiers": [{"name": "Bacon", "quantity": 1}, {"name": "Extra cheese", "quantity": 2}],
         "allergies": ["milk", "sesame"], "allergens": ["gluten", "milk", "sesame"]},
        {"id": 2, "productCode": "COLA", "name": "Cola", "quantity": 1, "unitPrice": 3.2,
         "total": 3.2, "note": None, "course": None, "projectGuid": None, "status": "New",
         "endpoints": [{"name": "Bar", "status": "New"}],
         "firedDateUtc": "2026-11-24T12:01:07.512Z",
         "startDateUtc": "2026-11-24T12:01:07.512Z",
         "modifiers": [], "allergies": [], "allergens": []},
    ],
    "endpoints": [
        {"name": "Kitchen", "status": "Ready", "isActive": True,
         "processedDateUtc": "2026-11-24T12:01:07.530Z", "itemIds": [1]},
        {"name": "Pass", "status": "Processing", "isActive": True,
         "processedDateUtc": "2026-11-24T12:01:07.530Z", "itemIds": [1]},
        {"name": "Bar", "status": "New", "isActive": True,
         "processedDateUtc": "2026-11-24T12:01:07.530Z", "itemIds": [2]},
    ],
}

TICKET = {
    "id": TICKET_ID, "name": "Table 4", "device": {"name": "POS-1"},
    "user": {"userName": "waiter", "name": "Wendy"},
    "items": [{"productCode": "BURGER", "quantity": 2, "note": "no onions", "course": None,
               "modifiers": [{"name": "Bacon", "quantity": 1},
                             {"name": "Extra cheese", "quantity": 2}],
               "allergies": ["milk", "sesame"]},
              {"productCode": "COLA", "quantity": 1, "note": None, "course": None,
               "modifiers": [], "allergies": []}],
    "isRush": True, "orderType": "takeout",
    "isClosed": False, "_v": 1, "createdDateUtc": "2026-11-24T12:01:07.512Z",
    "lastSavedDateUtc": "2026-11-24T12:01:07.512Z",
}

SIGNED_IN_USER = {"id": 4, "userName": "waiter", "name": "Wendy",
                  "rights": ["ticketCreate", "ticketUpdate"], "device": {"name": "POS-1"}}

REQUESTS = {
    B.SignIn: {"userName": "waiter", "password": "waiter-demo", "deviceName": "POS-1"},
    B.Refresh: {"tokenId": "tok_5QvJ0m2x8Yd1Lr6N", "refreshToken": "ref_Zk3P9wA7cT4eH2sU"},
    B.ProcessOrders: {"orderIds": [ORDER_ID]},
    B.StatusChange: {"status": "Ready", "_v": 3},
    B.RushChange: {"isRush": True, "_v": 3},
    B.TicketWrite: {"name": "Table 4", "isRush": True, "orderType": "takeout", "items": [
        {"productCode": "BURGER", "quantity": 2, "note": "no onions",
         "modifiers": [{"name": "Extra cheese", "quantity": 2}, {"name": "Bacon"}],
         "allergies": ["milk", "sesame"]},
        {"productCode": "COLA", "quantity": 1}]},
    B.TicketClose: {"_v": 2},
    B.CourseFire: {"_v": 4},
    B.ProductWrite: {"code": "LEMONADE", "name": "Lemonade", "price": 3.5,
                     "stationNames": ["Bar"], "course": None, "prepSeconds": 60,
                     "allergens": ["sulphites"]},
    B.StationWrite: {"name": "Packing", "type": "display", "isActive": True,
                     "settings": {"orderTypes": "takeout,delivery"},
                     "backupStationName": "Pass"},
    B.WebhookWrite: {"url": "https://delivery.example.com/hooks/orders",
                     "eventTypes": ["order.created", "order.completed", "order.cancelled"],
                     "secret": "a-long-random-signing-secret", "isActive": True},
    B.ProjectWrite: {"name": "Holiday poster", "productCode": "POSTER"},
    B.BasketLineWrite: {"projectGuid": PROJECT_GUID, "quantity": 2},
    B.Checkout: {"currency": "EUR", "shippingMethod": "Post", "shippingTotal": 4.95,
                 "shippingAddress": {"firstName": "Ada", "lastName": "Lovelace",
                                     "line1": "1 Analytical St", "city": "London",
                                     "postalCode": "N1 1AA", "country": "GB"}},
}

ANSWERS = {
    S.TokenPair: {"tokenId": "tok_5QvJ0m2x8Yd1Lr6N", "refreshToken": "ref_Zk3P9wA7cT4eH2sU",
                  "expiresAt": "2026-11-25T00:04:31.250Z", "user": SIGNED_IN_USER},
    S.SignedInUser: SIGNED_IN_USER,
    S.Order: ORDER,
    S.OrderQueryResult: {"items": [ORDER], "count": 1, "totalCount": 37},
    S.Count: {"count": 37, "totalCount": 37},
    S.Ticket: TICKET,
    S.WrittenTicket: {**TICKET, "generatedOrders": [
        {"id": ORDER_ID, "number": 1042, "isVoid": False}]},
    S.Product: {"code": "BURGER", "name": "Cheeseburger", "price": 12.5,
                "stationNames": ["Kitchen", "Pass"], "course": 2, "prepSeconds": 540,
                "allergens": ["gluten", "milk", "sesame"], "_v": 1},
    S.Station: {"name": "Kitchen", "isActive": True, "type": "display", "address": None,
                "settings": {"courseFiring": "held", "autoFire": "true"},
                "backupStationName": "Pass",
                "health": {"screens": 2, "lastSeenDateUtc": SAVED, "failing": False},
                "_v": 2},
    S.Project: {"guid": PROJECT_GUID, "name": "Holiday poster", "productCode": "POSTER",
                "createdDateUtc": SAVED},
    S.Basket: {"guid": BASKET_GUID, "lines": [
        {"id": 1, "projectGuid": PROJECT_GUID, "productCode": "POSTER", "quantity": 2,
         "total": 39.9}], "createdDateUtc": SAVED, "lastSavedDateUtc": SAVED,
        "orderTotal": 39.9},
    S.EventPage: {"items": [
        {"sequence": 8812, "type": "item.status_changed", "occurredDateUtc": SAVED,
         "actor": {"userName": "cook"}, "order": ORDER}], "next": 8812},
    S.WebhookSubscription: {"id": 3, "url": "https://delivery.example.com/hooks/orders",
                            "eventTypes": ["order.created", "order.completed",
                                           "order.cancelled"],
                            "isActive": True, "createdDateUtc": SAVED, "_v": 1},
    S.WebhookDelivery: {"id": 51, "deliveryId": "5e0c7a1b-8f2d-4a63-9b1e-3c4d5e6f7a80",
                        "redeliveryOf": None, "sequence": 8812, "eventType": "order.completed",
                        "orderId": ORDER_ID, "state": "pending", "attempts": 2,
                        "nextTryDateUtc": "2026-11-24T12:05:11.250Z",
                        "lastTryDateUtc": "2026-11-24T12:04:51.250Z", "lastStatusCode": 503,
                        "lastError": "HTTP 503", "requestedBy": None,
                        "createdDateUtc": SAVED, "finishedDateUtc": None},
    # The answer to GET /api/orders?status=Nope.
    S.Problem: {"type": "about:blank", "title": "Validation failed", "status": 400,
                "detail": "The request is not valid.", "instance": "/api/orders",
                "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "errorCode": 3,
                "errors": [{"memberName": "status",
                            "message": "'Nope' is not one of New, Processing, Ready, "
                                       "Completed, Cancelled.",
                            "code": "invalid"}]},
}

# NData queries (contract 4.2) with what each asks; `{order_id}` stands for an order's id.
QUERIES = [
    ("/api/orders?status=in:New,Processing&$sort=-createdDateUtc&$take=20",
     "Open orders, newest first, 20 at a time."),
    ("/api/orders?endpointName=Kitchen&status=neq:Completed&$count=true",
     "How many orders routed to the Kitchen are not completed: the count alone."),
    (("/api/orders?createdDateUtc=gte:2026-11-24T00:00:00Z&createdDateUtc=lt:2026-11-25"
      "&isVoid=false"),
     ("Orders of 24 November (UTC), void orders left out: a member may repeat, and "
      "everything is AND-ed.")),
    ("/api/orders?number=gt:1000;lte:1100&$sort=number:asc&$skip=50",
     "Orders 1001 to 1100 in number order, from the 51st on: `;` joins operations."),
    ("/api/orders?ticketName=contains:table&completedDateUtc=eq:null",
     ("Orders of tickets whose name contains \"table\" (any case) that are not completed: "
      "`eq:null` tests for null.")),
    ("/api/orders?isRush=true&orderType=in:takeout,delivery&status=neq:Completed",
     "Rush orders to take away or deliver that are not completed yet."),
    ("/api/orders?$include=history&id=" + ORDER_ID, "One order by id, with its history."),
    ("/api/orders/{order_id}?$include=history", "A single order with its history."),
    ("/api/events?after=0&$take=50&type=order.completed,order.cancelled",
     ("The event feed (not an NData list): orders completed or cancelled, oldest first; read "
      "on with `after=` the answer's `next`.")),
]
