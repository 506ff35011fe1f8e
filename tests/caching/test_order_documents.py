"""GET /api/orders answers from each process's cache of serialised orders
(app/caching/order_documents.py) and reads deep pages from the far end (app/services/orders.py):
neither may ever change an answer. Every answer here is compared byte for byte with what
serialising the orders afresh gives."""
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from flask import jsonify
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from app.api.serializers import order_json, query_result
from app.caching.order_documents import DEFAULT_BUDGET, DocumentCache, document_cache
from app.core.query import parse_query
from app.extensions import db
from app.models import Counter
from app.models.orders import Order
from app.services import order_status, orders, processing, stations
from app.services.history import CHANGES
from app.services.tickets import update_ticket
from tests.conftest import bearer, counted_statements, lines, make_ticket, make_user


def fresh_answer(user, query_string: str) -> bytes:
    """What the route answered before the cache: every order loaded and serialised anew."""
    db.session.expire_all()
    query = parse_query(MultiDict(parse_qsl(query_string, keep_blank_values=True)),
                        orders.ORDER_QUERY)
    found, total = orders.list_orders(user=user, query=query)
    return jsonify(query_result([order_json(o) for o in found], total)).get_data()


def listed(client, headers, query_string: str, user) -> dict:
    r = client.get("/api/orders?" + query_string, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    assert r.get_data() == fresh_answer(user, query_string)
    return r.json


@pytest.fixture
def headers(manager):
    return bearer(manager)


def by_number(body) -> dict:
    return {o["number"]: o for o in body["items"]}


def test_a_cached_order_is_never_stale(app, client, catalog, waiter, manager, headers):
    made = [make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 2), name=f"T{i}")[1][0]
            for i in range(3)]
    # Processed by hand from here on: the waiting order waits for a person, not a station.
    app.config["AUTO_PROCESS"] = False
    _, (waiting,) = make_ticket(waiter, catalog, ("FRIES", 1), name="Waiting")
    query = "$take=10"
    first = by_number(listed(client, headers, query, manager))
    assert len(document_cache()) >= 4
    assert first[waiting.number]["isProcessable"] is True

    # A status change.
    order_status.set_order_status(user=manager, order_id=made[0].id, status="Ready")
    assert by_number(listed(client, headers, query, manager))[made[0].number]["status"] == "Ready"
    # One item's status.
    order_status.set_item_status(user=manager, order_id=made[1].id, item_id=2,
                                 status="Completed")
    body = by_number(listed(client, headers, query, manager))
    assert body[made[1].number]["items"][1]["status"] == "Completed"
    # A station switched off: isActive of its entries and isProcessable of waiting orders.
    stations.set_station_active("Kitchen", is_active=False)
    body = by_number(listed(client, headers, query, manager))
    assert {e["name"]: e["isActive"] for e in body[made[2].number]["endpoints"]}["Kitchen"] \
        is False
    assert body[waiting.number]["isProcessable"] is False
    stations.set_station_active("Kitchen", is_active=True)
    assert by_number(listed(client, headers, query, manager))[waiting.number]["isProcessable"]
    # Processing.
    processing.process_orders(user=manager, order_ids=[waiting.id])
    body = by_number(listed(client, headers, query, manager))
    assert body[waiting.number]["isProcessed"] is True
    assert body[waiting.number]["endpoints"][0]["processedDateUtc"] is not None
    # A station renamed.
    stations.update_station("Bar", name="Cocktail bar", type="display", is_active=True,
                            address=None, settings={})
    body = by_number(listed(client, headers, query, manager))
    assert "Cocktail bar" in {e["name"] for e in body[made[2].number]["endpoints"]}
    # A delete.
    orders.delete_order(user=manager, order_id=made[2].id)
    body = listed(client, headers, query, manager)
    assert made[2].number not in by_number(body) and body["totalCount"] == 3


def test_an_order_rewritten_in_place_is_not_answered_from_the_cache(client, catalog, waiter,
                                                                    manager, headers):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", 1))
    listed(client, headers, "$take=5", manager)
    # As seeders do: rows written directly, the version left alone, the change counter moved
    # (without it no screen and no kept list would know; app.api.list_cache).
    db.session.execute(update(Order).where(Order.id == order.id).values(
        note="written directly", last_saved_at=order.last_saved_at.replace(year=2020)))
    db.session.execute(update(Counter).where(Counter.name == CHANGES)
                       .values(value=Counter.value + 1))
    db.session.commit()
    assert listed(client, headers, "$take=5", manager)["items"][0]["note"] == "written directly"


@pytest.mark.parametrize("query", [
    "", "$take=2", "$skip=1&$take=2&$sort=-orderTotal", "status=New&$sort=-createdDateUtc",
    "isVoid=true", "$take=0", "$skip=50",
])
def test_answers_are_byte_for_byte_those_of_serialising_afresh(client, catalog, waiter,
                                                               manager, headers, query):
    ticket, _ = make_ticket(waiter, catalog, ("BURGER", 2, "crème brûlée, 😀"), ("COLA", 1),
                            ("BREAD", 1))
    update_ticket(user=waiter, device=catalog, ticket_id=ticket.id, name="Table 1",
                  lines=lines(("BURGER", 1, "crème brûlée, 😀"), ("COLA", 1), ("BREAD", 1)))
    make_ticket(waiter, catalog, ("FRIES", 3), name="Ölstand \"quoted\"")
    listed(client, headers, query, manager)  # nothing cached yet
    listed(client, headers, query, manager)  # all from the cache


def test_an_indented_answer_is_the_same_as_jsonify_writes(app, client, catalog, waiter, manager,
                                                          headers):
    make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1))
    listed(client, headers, "", manager)
    app.json.compact = False
    try:
        r = client.get("/api/orders", headers=headers)
        assert r.get_data() == fresh_answer(manager, "")
        assert b'\n  "items": [\n' in r.get_data()
    finally:
        app.json.compact = None


def test_a_user_sees_only_their_own_orders_whatever_is_cached(client, catalog, waiter, manager,
                                                              headers):
    customer = make_user("customer", [])
    make_ticket(waiter, catalog, ("COLA", 1))
    listed(client, headers, "", manager)
    assert client.get("/api/orders", headers=bearer(customer)).json == {
        "items": [], "count": 0, "totalCount": 0}


def test_with_every_order_cached_a_page_is_three_statements(client, catalog, waiter, manager,
                                                            headers):
    def statements(count):
        for i in range(count):
            make_ticket(waiter, catalog, ("BURGER", 1), ("COLA", 1), name=f"T{i}")
        client.get("/api/orders?$take=50", headers=headers)  # fills the cache
        # A change elsewhere: the serialised orders still apply.
        db.session.execute(update(Counter).where(Counter.name == CHANGES)
                           .values(value=Counter.value + 1))
        db.session.commit()
        db.session.remove()
        with counted_statements() as found:
            assert client.get("/api/orders?$take=50", headers=headers).status_code == 200
        return [s for s in found if not s.lstrip().upper().startswith("BEGIN")]

    small, large = statements(3), statements(22)
    # the token with its user; the two versions (the ETag); the page's keys with the stations'
    # version and the total
    assert len(small) == len(large) == 3, large


# --- deep pages --------------------------------------------------------------------------------

DEEP_SORTS = ["", "$sort=number", "$sort=-orderTotal", "$sort=completedDateUtc",
              "$sort=-completedDateUtc", "$sort=deviceName,-number", "$sort=-deviceName",
              "$sort=source", "$sort=status,-createdDateUtc", "$sort=isVoid:desc,orderTotal"]


@pytest.fixture
def many(app, catalog, waiter, manager):
    """Ten orders with ties (same totals, one source), nulls (no device, not completed) and
    void orders, so a reversed sort must place every one exactly."""
    made = []
    for i in range(8):
        device = catalog if i % 3 else None
        ticket, (order,) = make_ticket(waiter, device, ("COLA", 1 + i % 2), ("FRIES", 1),
                                       name=f"T{i}")
        made.append(order)
        if i % 4 == 0:  # the cola taken off again: a void order
            made += update_ticket(user=waiter, device=device, ticket_id=ticket.id,
                                  name=f"T{i}", lines=lines(("FRIES", 1)))[1]
    for order in made[::3]:
        order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    return made


@pytest.mark.parametrize("sort", DEEP_SORTS)
def test_a_page_read_from_the_far_end_is_the_page_read_from_the_start(client, many, manager,
                                                                       headers, sort):
    everything = [o["id"] for o in listed(client, headers, f"{sort}&$take=1000",
                                          manager)["items"]]
    assert len(everything) == len(many) == 10
    wrong = []
    for take in (1, 2, 3, 5):
        for skip in range(13):
            body = listed(client, headers, f"{sort}&$skip={skip}&$take={take}", manager)
            if [o["id"] for o in body["items"]] != everything[skip:skip + take] \
                    or body["totalCount"] != 10:
                wrong.append((skip, take))
    assert wrong == []


def test_the_dashboard_list_reads_deep_pages_from_the_far_end_too(many, manager):
    def page(skip, take, search=None):
        query = parse_query(MultiDict({"$sort": "-orderTotal", "$skip": str(skip),
                                       "$take": str(take)}), orders.ORDER_QUERY)
        found, _ = orders.list_orders(user=manager, query=query, search=search)
        return [o.id for o in found]

    everything = page(0, 100)
    assert [page(skip, 2) for skip in range(12)] == [everything[s:s + 2] for s in range(12)]
    tables = page(0, 100, search="T")
    assert [page(skip, 3, search="T") for skip in range(12)] == \
        [tables[s:s + 3] for s in range(12)]


# --- the cache itself --------------------------------------------------------------------------

def test_the_cache_keeps_within_its_budget_dropping_the_least_recently_used():
    text = "x" * 1000
    cache = DocumentCache(budget=5 * 1300)
    for n in range(5):
        cache.put(f"o{n}", (1,), text)
    assert cache.get_many([("o0", (1,))]) == [text]  # o0 is now the most recently used
    cache.put("o5", (1,), text)
    assert len(cache) == 5 and cache.size <= cache.budget
    assert cache.get_many([("o1", (1,)), ("o0", (1,)), ("o5", (1,))]) == [None, text, text]
    assert cache.get_many([("o0", (2,))]) == [None]  # another state of the order
    cache.put("o0", (2,), "short")
    assert cache.get_many([("o0", (2,))]) == ["short"] and cache.size <= cache.budget
    cache.put("huge", (1,), "y" * 10_000)  # larger than the whole budget: not kept
    assert cache.get_many([("huge", (1,))]) == [None]


def test_orders_larger_than_the_cache_are_still_answered(app, client, catalog, waiter, manager,
                                                         headers):
    for i in range(4):
        make_ticket(waiter, catalog, ("BURGER", 1), name=f"T{i}")
    document_cache().budget = 3000  # room for about one order
    try:
        listed(client, headers, "$take=10", manager)
        listed(client, headers, "$take=10", manager)
        assert document_cache().size <= 3000
    finally:
        document_cache().budget = DEFAULT_BUDGET


def test_money_reads_back_exactly(client, catalog, waiter, manager, headers):
    _, (order,) = make_ticket(waiter, catalog, ("COLA", Decimal("0.333")))
    body = listed(client, headers, "", manager)
    assert body["items"][0]["items"][0]["quantity"] == Decimal("0.333")
    assert body["items"][0]["id"] == order.id
