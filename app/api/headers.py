"""The headers the OpenAPI description declares (app.api.description): the request headers
handlers read, and the response headers the server sends.

Response headers are declared once under components/headers and referenced per answer. The
tests fuzz every operation with schemathesis's header check, so a header declared as always sent
that an answer lacks fails a test.
"""
from app.http import idempotency

REQUEST_HEADERS = {
    "If-Match": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                 "description": "The version the write is based on, like `\"3\"` (or `_v`)."},
    "If-None-Match": {"name": "If-None-Match", "in": "header", "schema": {"type": "string"},
                      "description": "The ETag last read; 304 when it is still current."},
    idempotency.HEADER: {
        "name": idempotency.HEADER, "in": "header",
        "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
        "description": "A key of the client's choosing, unique per request it means: a retry "
                       "with the same key and request answers the first answer again."},
}

REQUEST_ID, ETAG, LOCATION = "X-Request-Id", "ETag", "Location"
RETRY_AFTER, AUTHENTICATE = "Retry-After", "WWW-Authenticate"

RESPONSE_HEADERS = {
    REQUEST_ID: {
        "description": "This request's id (app.http.logs): the `traceId` of a problem answer and "
                       "the log's requestId. Quote it when reporting a problem.",
        "required": True, "schema": {"type": "string", "minLength": 1}},
    ETAG: {
        "description": "A tag of what this answer shows. Send it back as If-None-Match: while "
                       "it is current the answer is 304 with no body. A single resource's tag "
                       "starts with its `_v`, so it also serves as If-Match for a write.",
        "required": True, "schema": {"type": "string", "minLength": 2}},
    LOCATION: {
        "description": "The path of the resource just created.",
        "required": True, "schema": {"type": "string", "format": "uri-reference"}},
    idempotency.REPLAYED: {
        "description": "`true` on the stored answer to an earlier request with the same "
                       "Idempotency-Key: nothing was created by this one.",
        "schema": {"type": "string", "enum": ["true"]}},
    RETRY_AFTER: {
        "description": "Seconds to wait before trying again.",
        "required": True, "schema": {"type": "integer", "minimum": 0}},
    AUTHENTICATE: {
        "description": "The scheme to authenticate with: `Bearer`.",
        "required": True, "schema": {"type": "string"}},
}

# The headers of error answers beyond X-Request-Id, by status.
ERROR_HEADERS = {401: (AUTHENTICATE,), 429: (RETRY_AFTER,), 503: (RETRY_AFTER,)}


def header_refs(*names: str) -> dict:
    """A response's `headers`: X-Request-Id, which every answer carries, and `names`."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in (REQUEST_ID, *names)}
