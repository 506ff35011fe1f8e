"""The examples of the API reference (app.api.examples) are true: each body is one its route
accepts, each answer is one the server could send, and each query runs."""
import json

import jsonschema_rs

from app.api import examples
from app.api import schemas as S
from app.api.bodies import parse_body
from app.api.description import api_rules, build_description
from app.api.handler_source import read_handler
from app.core import rights as R
from tests.conftest import bearer, make_ticket, make_user


def _validator(doc: dict, name: str):
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}",
                                        "components": doc["components"]})


def _errors(doc: dict, name: str, value) -> list[str]:
    return [str(e) for e in _validator(doc, name).iter_errors(value)]


def test_every_request_body_has_an_example_its_model_and_schema_accept(app):
    doc = build_description(app)
    bodies = {read_handler(app.view_functions[rule.endpoint]).body
              for rule, _ in api_rules(app)} - {None}
    assert bodies == set(examples.REQUESTS), "a body without an example, or one no route reads"
    for model, example in examples.REQUESTS.items():
        parse_body(model, example)  # as the route reads it
        assert _errors(doc, model.__name__, example) == [], model.__name__
        assert doc["components"]["schemas"][model.__name__]["examples"] == [example]


def test_every_answer_example_fits_its_model_and_schema(app):
    doc = build_description(app)
    for model, example in examples.ANSWERS.items():
        model.model_validate(example)
        assert _errors(doc, model.__name__, example) == [], model.__name__
        assert doc["components"]["schemas"][model.__name__]["examples"] == [example]


def test_an_example_that_drifts_is_caught(app):
    doc = build_description(app)
    wrong = {**examples.ORDER, "status": "Done"}
    assert _errors(doc, "Order", wrong)
    assert _errors(doc, "TicketWrite", {"name": "Table 4", "items": [{"quantity": 1}]})


def test_the_problem_example_is_the_real_answer(client, waiter):
    r = client.get("/api/orders?status=Nope", headers=bearer(waiter))
    assert r.status_code == 400
    example = examples.ANSWERS[S.Problem]
    assert {**r.json, "traceId": example["traceId"]} == example


def test_every_query_example_runs(client, catalog, waiter):
    """Each query of the introduction answers 200 with what its route describes, and the
    introduction shows them all."""
    doc = build_description(client.application)
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 1), name="Table 3")
    headers = bearer(make_user(rights=[R.ORDER_READ]))
    for query, meaning in examples.QUERIES:
        assert f"`GET {query}`: {meaning}" in doc["info"]["description"]
        r = client.get(query.format(order_id=order.id), headers=headers)
        assert r.status_code == 200, (query, r.json)
        shape = "Order" if query.startswith("/api/orders/") else (
            "EventPage" if query.startswith("/api/events") else
            "Count" if "$count=true" in query else "OrderQueryResult")
        assert _errors(doc, shape, json.loads(r.get_data())) == [], query
    with_history = client.get(f"/api/orders/{order.id}?$include=history", headers=headers)
    assert [e["action"] for e in with_history.json["history"]][:1] == ["created"]
    found = client.get("/api/orders?ticketName=contains:TABLE&completedDateUtc=eq:null",
                       headers=headers)
    assert [o["id"] for o in found.json["items"]] == [order.id]
