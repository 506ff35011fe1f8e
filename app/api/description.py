"""The OpenAPI 3.1 description of the JSON API, generated from the code that serves it.

Nothing here is written twice:
- paths, methods and path parameters come from the app's URL map (every `api.*` rule);
- who may call each route comes from `route_rights` (app.api.access.guarded);
- request bodies are the pydantic models the handlers validate with: the model a handler hands
  to `parse_body` is read from the handler's own source (app.api.handler_source), and
  pydantic writes its JSON Schema;
- query parameters of list routes come from the QuerySpec the handler passes to `parse_query`;
  a single resource's `$include` from the extras it hands to `parse_includes`;
- If-Match / If-None-Match appear where the handler reads them (`expected_version`,
  `make_conditional`, `not_modified`); Idempotency-Key where app.http.idempotency applies; 429
  where app.http.limits does;
- answers are the models of app.api.schemas, named per route in its ANSWERS. The tests check
  them against real answers (serializer output, and schemathesis over every operation), so a
  wrong entry fails a test rather than misleading a reader;
- response headers (app.api.headers): an ETag on versioned resources and conditional answers,
  Location where the handler sets it, X-Request-Id on every answer;
- examples come from app.api.examples, which the tests hold to the schemas and the app.
pydantic emits JSON Schema 2020-12, which is the schema dialect of OpenAPI 3.1 as it stands.
"""
import inspect
import re
import types
import typing
from importlib.metadata import PackageNotFoundError, version

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from app.api import examples
from app.api import schemas as S
from app.api.access import PUBLIC, SIGNED_IN, dashboard_routes, route_rights
from app.api.handler_source import Handler, read_handler
from app.api.headers import (
    ERROR_HEADERS,
    ETAG,
    LOCATION,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    header_refs,
)
from app.core.query import FeedSpec, QuerySpec, expected_value
from app.http import idempotency, limits

REF = "#/components/schemas/{model}"
JSON, PROBLEM_JSON = "application/json", "application/problem+json"
INT32_MAX = 2**31 - 1

ERRORS = {
    400: "Malformed input: `errors[]` names each offending member (errorCode 3).",
    401: "Missing, wrong or expired bearer token (errorCode 1).",
    403: "Signed in, but the right is missing (errorCode 2).",
    404: "No such resource, or not visible to this user.",
    409: "`_v` or If-Match older than the stored version (errorCode 6, `currentVersion`), or a "
         "change the current state does not allow (errorCode 3).",
    413: "The request body is larger than the server accepts.",
    422: "This Idempotency-Key was used before for a different request.",
    423: "The resource is busy; retry shortly (errorCode 5).",
    429: "Too many sign-in attempts for this account or from this address; see Retry-After.",
    503: "The database did not answer in time (connection lost, statement timeout); nothing "
         "was changed. Retry after Retry-After seconds (errorCode 5).",
}

INTRODUCTION = """\
The JSON API of the orders hub (see the product contract, section 4).

- Every route but sign-in and refresh needs `Authorization: Bearer <token>`: a token from
  `POST /api/auth`, or an API key made in the dashboard. Each operation names the right it needs.
- Member names in request bodies and query parameters are matched case-insensitively; unknown
  members are refused.
- Errors are `application/problem+json`; `traceId` is also the `X-Request-Id` header, which every
  answer carries.
- Single resources and order lists carry an `ETag`: sent back as `If-None-Match`, it answers
  `304 Not Modified` with no body while nothing changed.
- Writes to versioned resources accept the version read (`_v` in the body, or `If-Match`); an older
  one changes nothing and answers 409.
- POST routes that create something accept an `Idempotency-Key` header: a retry with the same key
  and the same request answers the first answer again and creates nothing.

## Queries

A list takes one filter per member, `member=operator:argument` (`eq`, `neq`, `gt`, `gte`, `lt`,
`lte`, `in`, `nin`, `contains`, `startswith`, `endswith`; a bare value means `eq`), operations
joined by `;`, and `$sort`, `$skip`, `$take`, `$count=true` and `$include`. A single resource
takes `$include` alone, where it has extras. Anything malformed or unknown answers 400, and
`errors[]` names each offending parameter. For example:
"""


def _introduction() -> str:
    return INTRODUCTION + "".join(f"\n- `GET {query}`: {meaning}"
                                  for query, meaning in examples.QUERIES) + "\n"


def _models_in(shape) -> list[type[BaseModel]]:
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return [shape]
    return [m for arg in typing.get_args(shape) for m in _models_in(arg)]


def _shape_schema(shape, refs: dict) -> dict:
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return refs[(shape, "serialization")]
    if shape is dict:
        return {"type": "object"}
    origin = typing.get_origin(shape)
    if origin is list:
        return {"type": "array", "items": _shape_schema(typing.get_args(shape)[0], refs)}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_shape_schema(arg, refs) for arg in typing.get_args(shape)]}
    raise TypeError(f"Cannot describe {shape!r}")


def _openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


# A variable of a rule's text: <name>, <converter:name> or <converter(arguments):name>.
RULE_VARIABLE = re.compile(r"<(?:(?P<converter>[^:<>(]+)(?:\([^)]*\))?:)?(?P<name>[^<>]+)>")


def _path_parameters(rule: Rule) -> list[dict]:
    parameters = []
    for match in RULE_VARIABLE.finditer(rule.rule):
        name, converter = match["name"], match["converter"]
        if converter == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": INT32_MAX}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _include_parameter(includes: tuple[str, ...]) -> dict:
    return {"name": "$include", "in": "query", "schema": {"type": "string"},
            "description": "Comma-separated extras: " + ", ".join(includes) + "."}


def _query_parameters(spec: QuerySpec) -> list[dict]:
    parameters = [
        {"name": "$skip", "in": "query", "schema": {"type": "integer", "minimum": 0},
         "description": "Items to skip after filter and sort."},
        {"name": "$take", "in": "query",
         "schema": {"type": "integer", "minimum": 0, "maximum": spec.max_take},
         "description": f"Items to answer at most (default {spec.default_take})."},
        {"name": "$sort", "in": "query", "schema": {"type": "string"},
         "description": "Comma-separated keys, each `key`, `key:asc`, `key:desc` or `-key`: "
                        + ", ".join(m.name for m in spec.members if m.sortable) + "."},
        {"name": "$count", "in": "query", "schema": {"type": "boolean"},
         "description": "Answer only the count."},
    ]
    if spec.includes:
        parameters.append(_include_parameter(spec.includes))
    for member in spec.members:
        if member.filterable:
            parameters.append({
                "name": member.name, "in": "query", "schema": {"type": "string"},
                "description": f"NData filter on {member.name} ({expected_value(member)}): "
                               "operations such as "
                               "`eq:value`, `gt:value`, `in:a,b` or a bare value, joined by `;`."})
    return parameters


def _feed_parameters(spec: FeedSpec) -> list[dict]:
    return [
        {"name": "after", "in": "query",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
         "description": "The sequence of the last event read (the previous answer's `next`); "
                        "0 or left out: from the oldest event kept."},
        {"name": "$take", "in": "query",
         "schema": {"type": "integer", "minimum": 0, "maximum": spec.max_take},
         "description": f"Events to answer at most (default {spec.default_take})."},
        {"name": "type", "in": "query", "schema": {"type": "string"},
         "description": "Comma-separated event types, any of: " + ", ".join(spec.types)
                        + ". Left out: every type."},
    ]


# Operation ids are the handlers' names, verb_noun, where that holds; here are the others: a
# handler named for its noun alone, and the second path of a handler served at two (each
# operation needs an id of its own).
OPERATION_IDS = {
    ("GET", "/api/auth"): "get_signed_in_user",
    ("POST", "/api/auth/refresh"): "refresh_token",
    ("GET", "/api/openapi.json"): "get_openapi_description",
    ("GET", "/api/order/{order_id}"): "get_shop_order",
    ("GET", "/api/orderendpoints/{name}/deliveries"): "list_station_deliveries",
    ("GET", "/api/orders/{order_id}/history"): "get_order_history",
    ("GET", "/api/webhooks/{subscription_id}/deliveries"): "list_webhook_deliveries",
}


def _summary(view, endpoint: str) -> str:
    doc = inspect.getdoc(inspect.unwrap(view))
    if doc:
        return doc.splitlines()[0]
    return endpoint.removeprefix("api.").replace("_", " ").capitalize()


def _right_text(right: str, endpoint: str) -> str:
    if right == PUBLIC:
        return "Public: no token needed."
    if endpoint in dashboard_routes:
        return "Any signed-in user: a bearer token, or a dashboard session."
    if right == SIGNED_IN:
        return "Any signed-in user."
    return f"Needs the `{right}` right (or `admin`)."


def _problem(refs: dict) -> dict:
    return {"content": {PROBLEM_JSON: {"schema": refs[(S.Problem, "serialization")]}}}


def _success_headers(handler: Handler, shape, idempotent: bool) -> dict:
    names = []
    # Every versioned resource is answered by app.api.serializers.versioned, which tags it.
    if handler.conditional or (isinstance(shape, type) and issubclass(shape, S.Versioned)):
        names.append(ETAG)
    if handler.location:
        names.append(LOCATION)
    if idempotent:
        names.append(idempotency.REPLAYED)
    return header_refs(*names)


def _operation(app: Flask, rule: Rule, method: str, refs: dict, aliases: list[str]) -> dict:
    endpoint = rule.endpoint
    view = app.view_functions[endpoint]
    handler = read_handler(view)
    right = route_rights[endpoint]
    status, shape = S.ANSWERS[endpoint]
    parameters = _path_parameters(rule)
    if handler.query is not None:
        parameters += _query_parameters(handler.query)
    if handler.feed is not None:
        parameters += _feed_parameters(handler.feed)
    if handler.includes:
        parameters.append(_include_parameter(handler.includes))
    if handler.versioned:
        parameters.append(REQUEST_HEADERS["If-Match"])
    if handler.conditional:
        parameters.append(REQUEST_HEADERS["If-None-Match"])
    idempotent = endpoint in idempotency.ENDPOINTS
    if idempotent:
        parameters.append(REQUEST_HEADERS[idempotency.HEADER])

    description = _right_text(right, endpoint)
    if aliases:
        description += " Also served at " + ", ".join(f"`{a}`" for a in aliases) + "."
    path = _openapi_path(rule)
    operation = {
        "operationId": OPERATION_IDS.get((method, path), endpoint.removeprefix("api.")),
        "summary": _summary(view, endpoint),
        "description": description,
        "tags": [inspect.unwrap(view).__module__.rsplit(".", 1)[-1]],
        "x-right": right,
        "parameters": parameters,
    }
    if right == PUBLIC:
        operation["security"] = []
    elif endpoint in dashboard_routes:
        operation["security"] = [{"bearer": []}, {"dashboardSession": []}]
    if handler.body is not None:
        operation["requestBody"] = {
            "required": not handler.body_optional,
            "content": {JSON: {"schema": refs[(handler.body, "validation")]}}}

    responses = {}
    headers = _success_headers(handler, shape, idempotent)
    if shape is None:
        responses[str(status)] = {"description": "Done; no content.", "headers": headers}
    else:
        responses[str(status)] = {"description": "Success.", "headers": headers,
                                  "content": {JSON: {"schema": _shape_schema(shape, refs)}}}
    if handler.conditional:
        responses["304"] = {"description": "Not modified: If-None-Match names the current "
                                           "ETag. No body; the ETag comes again.",
                            "headers": header_refs(ETAG)}
    codes = set()
    if (handler.body or handler.query or handler.feed or handler.includes is not None
            or handler.versioned or idempotent):
        codes.add(400)
    if right != PUBLIC:
        codes |= {401, 403}
    if rule.arguments:
        codes.add(404)
    if method in ("POST", "PUT", "DELETE") and right != PUBLIC:
        codes |= {409, 423}
    if handler.body is not None:
        codes.add(413)
    if idempotent:
        codes.add(422)
    if endpoint in limits.SIGN_IN_ENDPOINTS:
        codes |= {401, 429}
    codes.add(503)  # every operation reads the database, if only to check the token
    for code in sorted(codes):
        responses[str(code)] = {"description": ERRORS[code],
                                "headers": header_refs(*ERROR_HEADERS.get(code, ())),
                                **_problem(refs)}
    responses["default"] = {"description": "Any other error, as problem details.",
                            "headers": header_refs(), **_problem(refs)}
    operation["responses"] = responses
    return operation


def api_rules(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the JSON API, in path order."""
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("api.")
                   for method in rule.methods - {"HEAD", "OPTIONS"}),
                  key=lambda pair: (pair[0].rule, pair[1]))


def _package_version() -> str:
    try:
        return version("orders-hub")
    except PackageNotFoundError:
        return "0"


def build_description(app: Flask) -> dict:
    rules = api_rules(app)
    bodies = {read_handler(app.view_functions[r.endpoint]).body for r, _ in rules} - {None}
    answers = {m for r, _ in rules for m in _models_in(S.ANSWERS[r.endpoint][1])}
    keys = [(m, "validation") for m in sorted(bodies, key=lambda m: m.__name__)]
    keys += [(m, "serialization") for m in sorted(answers | {S.Problem},
                                                   key=lambda m: m.__name__)]
    refs, top = models_json_schema(keys, ref_template=REF)
    schemas = top.get("$defs", {})
    _add_examples(schemas, refs)

    paths: dict[str, dict] = {}
    seen: dict[tuple[str, str], list[str]] = {}
    for rule, method in rules:
        seen.setdefault((rule.endpoint, method), []).append(_openapi_path(rule))
    for rule, method in rules:
        # One endpoint served at two paths (GET /orders/{id} and /order/{id}) is one operation
        # under two names; each says where else it is served.
        path = _openapi_path(rule)
        aliases = [p for p in seen[(rule.endpoint, method)] if p != path]
        paths.setdefault(path, {})[method.lower()] = _operation(app, rule, method, refs, aliases)

    return {
        "openapi": "3.1.0",
        "info": {"title": "Orders hub API", "version": _package_version(),
                 "description": _introduction()},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": RESPONSE_HEADERS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A token from `POST /api/auth`, or an API key made "
                                          "in the dashboard."},
                "dashboardSession": {"type": "apiKey", "in": "cookie",
                                     "name": app.config["SESSION_COOKIE_NAME"],
                                     "description": "The dashboard's session, after signing in "
                                                    "at `/sign-in`; only where named."}},
        },
        "security": [{"bearer": []}],
    }


def _add_examples(schemas: dict, refs: dict) -> None:
    """Each example under its schema's `examples`, where the page and other tools look."""
    for table, mode in ((examples.REQUESTS, "validation"), (examples.ANSWERS, "serialization")):
        for model, example in table.items():
            name = refs[(model, mode)]["$ref"].rsplit("/", 1)[-1]
            schemas[name]["examples"] = [example]


def description(app: Flask) -> dict:
    """The description for this app, built once."""
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_description(app)
    return app.extensions["openapi"]
