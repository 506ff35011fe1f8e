"""Every main filter and sort of the API, the dashboard and the kiosk is read through an index,
on both databases: the plans of the statements the routes really run (captured as they run, not
copies) never read a whole table of orders, entries, items or cells, name the index meant for
the filter, and a sorted first page comes off its index in order, with no sort of every match.

The data: a few thousand orders written in bulk as the benchmarks write them (app/seed.py: a
year of finished orders and the last two hours' open ones), then ANALYZE. A table that small is
read faster whole than through any index, so PostgreSQL would scan it however well it is
indexed: its plans are taken with sequential scans priced out (`enable_seqscan = off`), which
shows the index a query CAN use (and a Seq Scan where none can). That the planner prefers them
on 200,000 orders is measured in docs/queries.md. SQLite's plans are its own choice.
"""
import json
import re
import uuid
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import event, text

from app.extensions import db
from app.models import Device, Station, utcnow
from app.seed import bulk_insert_orders
from app.services import products, stations
from tests.conftest import (
    DISPATCH_CONFIG,
    POSTGRES,
    Client,
    bearer,
    make_app,
    make_ticket,
    make_user,
)
from tests.web.helpers import sign_in

BULK_ORDERS = 3000
# The tables that grow with the orders: none is ever read whole.
BIG = {"orders", "order_entries", "order_items", "order_cells", "order_events"}


class Seeded:
    def __init__(self, app):
        self.app, self.kind = app, app.config["DB_KIND"]
        self.api = app.test_client()
        self.dashboard = app.test_client()


@pytest.fixture(scope="module")
def plans_app(migrated_app, tmp_path_factory):
    """A database of its own: SQLite chooses plans from statistics, and a database that other
    tests have filled and emptied (and migrated down and up) is not the one the plans are
    about."""
    kind = migrated_app.config["DB_KIND"]
    if kind == "sqlite":
        url, name = "sqlite:///" + str(tmp_path_factory.mktemp("plans") / "plans.db"), None
    else:
        name = f"orders_plans_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    app = make_app(url)
    app.config["DB_KIND"] = kind
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    if name:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def seeded(plans_app):
    app = plans_app
    app.config.update(AUTO_PROCESS=True, **DISPATCH_CONFIG)
    app.test_client_class = Client
    with app.app_context():
        for name in ("Kitchen", "Bar", "Pass"):
            stations.create_station(name=name)
        for code, price, routes in (("BURGER", "12.50", ["Kitchen", "Pass"]),
                                    ("FRIES", "4.00", ["Kitchen"]), ("COLA", "3.20", ["Bar"]),
                                    ("BREAD", "3.00", [])):
            products.create_product(code=code, name=code.title(), price=Decimal(price),
                                    station_names=routes)
        device = Device(name="POS-1", default_station_id=db.session.scalar(
            db.select(Station.id).where(Station.name == "Pass")))
        db.session.add(device)
        db.session.commit()
        waiter = make_user("waiter", ["ticketCreate", "ticketUpdate"])
        manager = make_user("manager", ["orderRead", "orderProcess", "orderUpdate"])
        bulk_insert_orders(BULK_ORDERS, progress=lambda _: None)
        # A few orders made the usual way: open ones, at the stations, of known tickets.
        seeded = Seeded(app)
        seeded.tickets = [make_ticket(waiter, device, ("BURGER", 1), ("COLA", 1),
                                      name=f"Terrace {n}")[0].id for n in range(3)]
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        seeded.headers = bearer(manager)
        sign_in(seeded.dashboard, manager)
        yield seeded


@contextmanager
def captured():
    """The SELECT statements run inside the block, with their parameters."""
    found = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def plan(kind: str, statement: str, parameters) -> list[dict]:
    """The steps of the statement's plan as dicts: kind (scan, index, sort), table, index,
    and the text of the step."""
    with db.engine.connect() as connection:
        if kind == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            return [_sqlite_step(row[3]) for row in rows]
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # see the module
        document = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                              parameters).scalar()
        connection.rollback()
    if isinstance(document, str):
        document = json.loads(document)
    return list(_postgresql_steps(document[0]["Plan"]))


def _sqlite_step(detail: str) -> dict:
    scan = re.fullmatch(r"SCAN (\w+)(?: AS \w+)?", detail)
    if scan:
        return {"kind": "scan", "table": scan.group(1), "index": None, "text": detail}
    index = re.search(r"USING (?:COVERING )?INDEX (\w+)", detail)
    if index:
        table = detail.split()[1]
        return {"kind": "index", "table": table, "index": index.group(1), "text": detail}
    virtual = re.match(r"SCAN (\w+) VIRTUAL TABLE INDEX \d+:M", detail)
    if virtual:  # FTS5 answering MATCH from its index
        return {"kind": "index", "table": virtual.group(1), "index": virtual.group(1),
                "text": detail}
    kind = "sort" if detail == "USE TEMP B-TREE FOR ORDER BY" else "other"
    return {"kind": kind, "table": None, "index": None, "text": detail}


def _postgresql_steps(node: dict):
    node_type = node["Node Type"]
    kind = ("scan" if node_type == "Seq Scan" else "sort" if node_type == "Sort"
            else "index" if "Index Name" in node else "other")
    yield {"kind": kind, "table": node.get("Relation Name"), "index": node.get("Index Name"),
           "text": node_type + (" using " + node["Index Name"] if "Index Name" in node else "")
           + (" on " + node["Relation Name"] if "Relation Name" in node else "")}
    for child in node.get("Plans", []):
        yield from _postgresql_steps(child)


def plans_of(seeded, requests) -> list[tuple[str, list[dict]]]:
    """(statement, plan) of every statement reading the big tables that `requests` (a function
    making the requests) runs; each request must answer 200."""
    with captured() as statements:
        for response in requests():
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = [(s, plan(seeded.kind, s, p)) for s, p in statements
             if any(re.search(rf"\b{table}\b", s) for table in BIG)]
    assert found, "no statement read the orders"
    return found


def describe(plans) -> str:
    return "\n".join(f"{statement.split(chr(10))[0][:150]}...\n"
                     + "\n".join(f"    {step['text']}" for step in steps)
                     for statement, steps in plans)


def assert_indexed(plans, indexes: set[str]) -> None:
    """No big table read whole, and one of `indexes` used."""
    steps = [step for _, found in plans for step in found]
    scans = [s["text"] for s in steps if s["kind"] == "scan" and s["table"] in BIG]
    assert not scans, f"full scans {scans}\n{describe(plans)}"
    used = {s["index"] for s in steps if s["kind"] == "index"}
    assert used & indexes, f"none of {sorted(indexes)} used\n{describe(plans)}"


# --- the API: a first page with its total, a count, and a page read whole ----------------------

# Indexes named by what they are rather than by each database's name for them.
ALIASES = {
    "number": {"sqlite": {"sqlite_autoindex_orders_2"}, "postgresql": {"orders_number_key"}},
    "id": {"sqlite": {"sqlite_autoindex_orders_1"}, "postgresql": {"orders_pkey"}},
    # contains, startswith, endswith: SQLite's full-text table, PostgreSQL's trigrams
    "text": {"sqlite": {"orders_search"}, "postgresql": {"ix_orders_text_trgm"}},
    # an order's entry at a station (order_id, station_id)
    "entry": {"sqlite": {"sqlite_autoindex_order_entries_1"},
              "postgresql": {"order_entries_order_id_station_id_key"}},
    "status": {"sqlite": {"ix_orders_status_number", "ix_orders_status_created_at"},
               "postgresql": {"ix_orders_status_number", "ix_orders_status_created_at"}},
}


def resolve(names: set[str], kind: str) -> set[str]:
    return {index for name in names for index in ALIASES.get(name, {}).get(kind, {name})}


def api_requests(seeded, query: str):
    def requests():
        base = f"/api/orders?{query}&" if query else "/api/orders?"
        for extra in ("$take=50", "$count=true", "$take=50&$include=history"):
            yield seeded.api.get(base + extra, headers=seeded.headers)
    return requests


# Two days of the year the orders were written in.
_DAY = (utcnow() - timedelta(days=100)).date()
DATES = f"gte:{_DAY}T00:00:00Z;lt:{_DAY + timedelta(days=2)}T00:00:00Z"
# (NData filter, the indexes one of which serves it)
FILTERS = [
    ("", {"number"}),  # the default sort; the total from the counters
    ("status=New", {"status"}),
    ("status=Cancelled", {"status", "number"}),  # many: walking the number index is as good
    ("status=in:New,Processing,Ready", {"status"}),
    ("status=nin:Completed,Cancelled", {"status"}),
    ("isProcessed=false", {"ix_orders_processed_number"}),
    ("isProcessed=true", {"ix_orders_processed_number"}),  # all but the few
    ("isProcessable=true", {"ix_order_entries_station_processed"}),
    ("isProcessable=false", {"ix_order_entries_station_processed"}),  # all but the few
    ("endpointName=Kitchen", {"entry"}),
    ("endpointName=Bar&status=in:New,Processing,Ready", {"status"}),
    ("number=gt:2900", {"number"}),
    ("number=gte:1000;lt:1100", {"number"}),
    (f"createdDateUtc={DATES}", {"ix_orders_created_at"}),
    (f"lastSavedDateUtc={DATES}", {"ix_orders_last_saved_at"}),
    (f"completedDateUtc={DATES}", {"ix_orders_completed_at"}),
    ("orderTotal=gt:60", {"ix_orders_order_total"}),
    ("ticketName=contains:able 3", {"text"}),
    ("ticketName=startswith:terr", {"text"}),
    ("ticketName=endswith:e 12", {"text"}),
    ("deviceName=contains:pos", {"text"}),
    ("userUserName=contains:wai", {"text"}),
    ("ticketName=Terrace 1", {"ix_orders_ticket_name"}),
    ("status=New&$sort=-createdDateUtc", {"ix_orders_status_created_at"}),
    ("isProcessed=false&number=gt:2000", {"ix_orders_processed_number"}),
    ("orderType=takeout", {"ix_orders_order_type_number"}),
    ("orderType=in:takeout,delivery", {"ix_orders_order_type_number"}),
    ("isRush=true", {"ix_orders_is_rush_number"}),
]


@pytest.mark.parametrize("query, indexes", FILTERS, ids=[q or "all" for q, _ in FILTERS])
def test_each_filter_of_the_api_reads_through_its_index(seeded, query, indexes):
    with seeded.app.app_context():
        assert_indexed(plans_of(seeded, api_requests(seeded, query)),
                       resolve(indexes, seeded.kind))


def test_a_ticket_s_orders_read_through_its_index(seeded):
    with seeded.app.app_context():
        assert_indexed(plans_of(seeded, api_requests(seeded, f"ticketId={seeded.tickets[0]}")),
                       {"ix_orders_ticket_id"})


# --- sorts: the first page comes off the sort's index, in order ---------------------------------

SORT_INDEXES = {
    "number": "number", "id": "id", "status": "ix_orders_status_rank",
    "ticketName": "ix_orders_ticket_name", "deviceName": "ix_orders_device_name",
    "userUserName": "ix_orders_user_user_name", "orderTotal": "ix_orders_order_total",
    "createdDateUtc": "ix_orders_created_at", "lastSavedDateUtc": "ix_orders_last_saved_at",
    "completedDateUtc": "ix_orders_completed_at"}


# The dashboard's column headings (app.web.orders.SORTABLE), and the API's dates and id.
SORT_KEYS = ["number", "status", "ticketName", "deviceName", "userUserName", "orderTotal",
             "createdDateUtc", "lastSavedDateUtc", "completedDateUtc", "id"]


@pytest.mark.parametrize("direction", ["", ":desc"])
@pytest.mark.parametrize("key", SORT_KEYS)
def test_each_sort_reads_its_first_page_off_an_index(seeded, key, direction):
    with seeded.app.app_context():
        plans = plans_of(seeded, lambda: [seeded.api.get(
            f"/api/orders?$sort={key}{direction}&$take=50", headers=seeded.headers)])
        assert_indexed(plans, resolve({SORT_INDEXES[key]}, seeded.kind))
        page = plans[0][1]  # the keys of the page with its total, in one statement
        sorts = [step["text"] for step in page if step["kind"] == "sort"]
        assert not sorts, f"every order sorted\n{describe(plans)}"


# --- the dashboard: its filter form, search box and counts per status ----------------------------

DASHBOARD = [
    ({}, {"number"}),
    ({"status": "New"}, {"status"}),
    ({"processed": "no"}, {"ix_orders_processed_number"}),
    ({"processable": "yes"}, {"ix_order_entries_station_processed"}),
    ({"station": "Bar", "status": "Ready"}, {"status"}),
    ({"ticket": "able 3"}, {"text"}),
    ({"device": "pos", "user": "wai"}, {"text"}),
    ({"user": "wai", "status": "Ready"}, {"text", "status"}),
    ({"q": "able 12"}, {"text"}),
    ({"q": "1234"}, {"text"}),  # a number, or part of a ticket name
    ({"from": str(_DAY), "to": str(_DAY + timedelta(days=1))}, {"ix_orders_created_at"}),
    ({"number": "1500"}, {"number"}),
    ({"sort": "status:desc"}, {"ix_orders_status_rank"}),
    ({"sort": "ticketName"}, {"ix_orders_ticket_name"}),
    ({"sort": "orderTotal:desc", "status": "New"}, {"status"}),
]


@pytest.mark.parametrize("form, indexes", DASHBOARD,
                         ids=[urlencode(form) or "all" for form, _ in DASHBOARD])
def test_each_dashboard_filter_reads_through_its_index(seeded, form, indexes):
    """The list, and the counts per status beside it."""
    with seeded.app.app_context():
        plans = plans_of(seeded, lambda: [seeded.dashboard.get("/orders?" + urlencode(form))])
        assert_indexed(plans, resolve(indexes, seeded.kind))


# --- the kiosk screens ---------------------------------------------------------------------------

@pytest.mark.parametrize("screen, indexes", [
    ("Kitchen", {"ix_order_entries_station_open"}),
    ("expo", {"status"}),
])
def test_kiosk_screens_read_through_their_indexes(seeded, screen, indexes):
    with seeded.app.app_context():
        plans = plans_of(seeded, lambda: [seeded.dashboard.get(f"/kiosk/{screen}")])
        assert_indexed(plans, resolve(indexes, seeded.kind))


@pytest.mark.parametrize("short", ["1", "e1", "12", "%", "_"])
def test_a_text_shorter_than_a_trigram_is_searched_all_the_same(seeded, short):
    """No trigram index serves a one- or two-character text: the LIKE reads the orders, and
    finds what it always found."""
    with seeded.app.app_context():
        response = seeded.api.get("/api/orders?" + urlencode(
            {"ticketName": "contains:" + short, "$count": "true"}), headers=seeded.headers)
        with db.engine.connect() as connection:
            expected = connection.execute(text(
                "SELECT count(*) FROM orders WHERE deleted_at IS NULL "
                "AND instr(lower(ticket_name), :short) > 0"
                if seeded.kind == "sqlite" else
                "SELECT count(*) FROM orders WHERE deleted_at IS NULL "
                "AND strpos(lower(ticket_name), :short) > 0"), {"short": short}).scalar()
    assert response.json["totalCount"] == expected
