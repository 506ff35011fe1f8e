"""What the OpenAPI description says of each operation: plain unique ids, the headers answers
carry, the 304 answers, statuses as one enum and quantities as numbers."""
import re

from app.api.description import OPERATION_IDS, build_description
from app.api.headers import RESPONSE_HEADERS
from tests.conftest import bearer, make_ticket

# The verbs an operation id may start with; each id is a verb and what it acts on.
VERBS = {"get", "list", "create", "update", "delete", "set", "add", "close", "process",
         "reprint", "checkout", "sign", "refresh", "fire"}
REF = "#/components/headers/"


def _operations(doc):
    return {(method.upper(), path): operation for path, item in doc["paths"].items()
            for method, operation in item.items()}


def _headers(response) -> set[str]:
    return {ref["$ref"].removeprefix(REF) for ref in response.get("headers", {}).values()}


def test_operation_ids_are_plain_unique_verb_noun_names(app):
    operations = _operations(build_description(app))
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", operation_id), operation_id
        assert operation_id.split("_")[0] in VERBS, operation_id
    assert set(OPERATION_IDS) <= set(operations), "an entry names no operation"
    assert operations["GET", "/api/orders/{order_id}"]["operationId"] == "get_order"
    assert operations["GET", "/api/order/{order_id}"]["operationId"] == "get_shop_order"
    assert "/api/orders/{order_id}" in operations["GET", "/api/order/{order_id}"]["description"]


def test_every_answer_declares_its_request_id_and_conditional_reads_their_304(app):
    operations = _operations(build_description(app))
    for key, operation in operations.items():
        for code, response in operation["responses"].items():
            assert "X-Request-Id" in _headers(response), (key, code)
    conditional = {key for key, operation in operations.items() if "304" in operation["responses"]}
    assert conditional == {("GET", "/api/orders"), ("GET", "/api/orders/{order_id}"),
                           ("GET", "/api/order/{order_id}"), ("GET", "/api/tickets/{ticket_id}")}
    for key in conditional:
        operation = operations[key]
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}, key
        assert _headers(operation["responses"]["304"]) == {"X-Request-Id", "ETag"}
        assert "content" not in operation["responses"]["304"]
        assert "ETag" in _headers(operation["responses"]["200"]), key


def test_success_headers_are_declared_where_they_are_sent(app):
    operations = _operations(build_description(app))

    def success(method, path):
        responses = operations[method, path]["responses"]
        return _headers(next(r for code, r in responses.items() if code.startswith("2")))

    # Versioned single resources carry their ETag; lists other than the orders' do not.
    assert "ETag" in success("GET", "/api/products/{code}")
    assert "ETag" in success("POST", "/api/orders/{order_id}/status")
    assert "ETag" not in success("GET", "/api/products")
    assert "ETag" not in success("GET", "/api/basket/{guid}")
    assert success("POST", "/api/tickets") == {"X-Request-Id", "ETag", "Location",
                                               "Idempotent-Replayed"}
    assert success("POST", "/api/basket") == {"X-Request-Id", "Location", "Idempotent-Replayed"}
    assert success("DELETE", "/api/orders/{order_id}") == {"X-Request-Id"}
    sign_in = operations["POST", "/api/auth"]["responses"]
    assert _headers(sign_in["429"]) == {"X-Request-Id", "Retry-After"}
    assert _headers(sign_in["401"]) == {"X-Request-Id", "WWW-Authenticate"}
    assert set(RESPONSE_HEADERS) == {"X-Request-Id", "ETag", "Location", "Idempotent-Replayed",
                                     "Retry-After", "WWW-Authenticate"}


def test_declared_headers_come_with_real_answers(client, catalog, waiter, manager):
    """The declarations above, against the answers: a created ticket with its Location and
    ETag, and 304s to the order list, a count and a single order, each with the ETag."""
    created = client.post("/api/tickets", headers={**bearer(waiter, "POS-1"),
                                                   "Idempotency-Key": "k-1"},
                          json={"name": "Table 2", "items": [{"productCode": "COLA",
                                                              "quantity": 1}]})
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/tickets/{created.json['id']}"
    assert created.headers["ETag"] == '"1"' and created.headers["X-Request-Id"]
    headers = bearer(manager)
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1))
    for path in ("/api/orders", "/api/orders?$count=true", f"/api/orders/{order.id}",
                 f"/api/order/{order.id}"):
        first = client.get(path, headers=headers)
        again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        assert again.headers["ETag"] == first.headers["ETag"] and again.headers["X-Request-Id"]


def test_statuses_are_one_enum_and_quantities_are_numbers(app):
    schemas = build_description(app)["components"]["schemas"]
    status = {"$ref": "#/components/schemas/Status"}
    assert schemas["Status"]["enum"] == ["New", "Processing", "Ready", "Completed", "Cancelled"]
    assert schemas["StatusChange"]["properties"]["status"] == status
    for name in ("Order", "OrderItem", "ItemEndpoint", "OrderEndpointEntry"):
        assert schemas[name]["properties"]["status"] == status, name
    assert schemas["HistoryEntry"]["properties"]["toStatus"]["anyOf"] == [status,
                                                                         {"type": "null"}]
    for name in ("TicketLine", "BasketLineWrite", "TicketItem", "OrderItem", "BasketLine"):
        assert schemas[name]["properties"]["quantity"]["type"] == "number", name


def test_a_status_is_still_matched_case_insensitively(client, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    url = f"/api/orders/{order.id}/status"
    r = client.post(url, json={"status": "rEaDy"}, headers=bearer(manager))
    assert r.status_code == 200 and r.json["status"] == "Ready"
    r = client.post(url, json={"status": "Done"}, headers=bearer(manager))
    assert r.status_code == 400
    (error,) = r.json["errors"]
    assert error["memberName"] == "status" and "Completed" in error["message"]


def test_the_description_names_the_dashboard_session_where_it_is_accepted(app):
    doc = build_description(app)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["dashboardSession"] == {
        **schemes["dashboardSession"], "type": "apiKey", "in": "cookie",
        "name": app.config["SESSION_COOKIE_NAME"]}
    with_session = {key for key, operation in _operations(doc).items()
                    if {"dashboardSession": []} in operation.get("security", [])}
    assert with_session == {("GET", "/api/openapi.json")}
