"""A client generated from the OpenAPI description, used as an integrator would use it.

openapi-python-client (offline, from the document alone) writes a Python package into a temporary
folder; the test imports it and, against the app served on loopback, signs in, creates a ticket,
lists orders and reads one with its history, a 304 and a problem answer. A description a generator
cannot read, an operation it has to leave out, or an answer the generated models cannot parse
fails here.
"""
import importlib
import json
import subprocess
import sys
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from app.api.description import build_description
from tests.conftest import PASSWORD, make_app

PACKAGE = "orders_hub_client"
# No formatter run after generating: the generated code is imported, never read or kept.
CONFIG = f"post_hooks: []\npackage_name_override: {PACKAGE}\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, made once: the description does not depend on the database."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_text(json.dumps(build_description(make_app("sqlite://"))))
    (root / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate",
         "--path", str(root / "openapi.json"), "--output-path", str(root / PACKAGE),
         "--meta", "none", "--config", str(root / "config.yaml")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator goes on past what it cannot read, leaving those parts out; it warns.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in (
            "client", "models", "api.auth.sign_in", "api.tickets.create_ticket",
            "api.orders.list_orders", "api.orders.get_order")}
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def served(app):
    """The app on a loopback port, for this test's data; requests run in the server's threads,
    each in its own app context and database session, as in production."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_a_generated_client_signs_in_creates_a_ticket_and_lists_orders(generated, served,
                                                                       catalog, waiter):
    client, models = generated["client"], generated["models"]
    sign_in, create_ticket = generated["api.auth.sign_in"], generated["api.tickets.create_ticket"]
    list_orders, get_order = generated["api.orders.list_orders"], generated["api.orders.get_order"]

    anonymous = client.Client(base_url=served, raise_on_unexpected_status=True)
    pair = sign_in.sync(client=anonymous, body=models.SignIn(
        user_name="waiter", password=PASSWORD, device_name="POS-1"))
    assert isinstance(pair, models.TokenPair), pair
    assert pair.user.user_name == "waiter" and pair.user.device.name == "POS-1"

    signed_in = client.AuthenticatedClient(base_url=served, token=pair.token_id,
                                           raise_on_unexpected_status=True)
    created = create_ticket.sync_detailed(
        client=signed_in, idempotency_key=str(uuid.uuid4()), body=models.TicketWrite(
            name="Table 7", items=[models.TicketLine(product_code="BURGER", quantity=2,
                                                     note="no onions"),
                                   models.TicketLine(product_code="COLA", quantity=1)]))
    assert created.status_code == 201, created.content
    ticket = created.parsed
    assert isinstance(ticket, models.WrittenTicket)
    assert created.headers["Location"] == f"/api/tickets/{ticket.id}"
    assert [(i.product_code, i.quantity) for i in ticket.items] == [("BURGER", 2), ("COLA", 1)]
    (generated,) = ticket.generated_orders  # the order this ticket made, named in the answer

    listed = list_orders.sync(client=signed_in, ticket_id=ticket.id, sort="number:asc")
    assert isinstance(listed, models.OrderQueryResult), listed
    assert listed.total_count == 1
    (order,) = listed.items
    assert (order.id, order.number, generated.is_void) == (generated.id, generated.number, False)
    assert order.status is models.Status.NEW and order.ticket.name == "Table 7"
    assert [(i.product_code, i.quantity) for i in order.items] == [("BURGER", 2.0),
                                                                    ("COLA", 1.0)]
    counted = list_orders.sync(client=signed_in, status="in:New,Processing", count=True)
    assert isinstance(counted, models.Count) and counted.count == 1

    read = get_order.sync_detailed(client=signed_in, order_id=order.id, include="history")
    assert read.status_code == 200
    assert [entry.action for entry in read.parsed.history][:1] == ["created"]
    again = get_order.sync_detailed(client=signed_in, order_id=order.id, include="history",
                                    if_none_match=read.headers["ETag"])
    assert again.status_code == 304 and again.parsed is None

    refused = list_orders.sync(client=signed_in, status="Nope")
    assert isinstance(refused, models.Problem), refused
    assert refused.error_code == 3 and refused.errors[0].member_name == "status"
