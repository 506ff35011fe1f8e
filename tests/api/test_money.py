"""Amounts and quantities are exact end to end (contract 2.1): JSON numbers read and written
with every digit, stored exactly on both databases, compared and sorted in SQL, and refused
beyond what their columns hold.

The amounts here have more significant digits than a float keeps: as floats, 1234567890123.4567
becomes ...4568, 98765432109876.54 becomes ...55, and 99999999999999.99 and .98 are one number,
so each test fails if a float is anywhere on the way."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Product
from app.models.orders import Order, OrderItem
from app.models.tickets import TicketItem
from app.services import products
from tests.conftest import bearer, make_ticket, make_user

PRICE = "1234567890123.4567"
HIGH, LOW = "99999999999999.99", "99999999999999.98"
SHIPPING = "98765432109876.54"
ADDRESS = {"firstName": "Ann", "lastName": "Lee", "line1": "Keizersgracht 1",
           "city": "Amsterdam", "postalCode": "1015 CJ", "country": "NL"}


def raw(response) -> str:
    return response.get_data(as_text=True)


def post_raw(client, path, text_body, headers):
    return client.post(path, data=text_body, content_type="application/json", headers=headers)


def checkout(client, headers, guid, **amounts):
    """Check the basket out with these amounts, written into the body as given."""
    members = "".join(f'"{name}": {value}, ' for name, value in amounts.items())
    return post_raw(client, f"/api/basket/{guid}/checkout",
                    f'{{"currency": "EUR", "shippingMethod": "Post", {members}'
                    f'"shippingAddress": {client.application.json.dumps(ADDRESS)}}}', headers)


@pytest.fixture
def as_admin(admin):
    return bearer(admin)


def test_a_price_is_read_stored_and_answered_with_every_digit(client, catalog, as_admin):
    r = post_raw(client, "/api/products",
                 f'{{"code": "GOLD", "name": "Gold bar", "price": {PRICE}, '
                 f'"stationNames": ["Bar"]}}', as_admin)
    assert r.status_code == 201, r.json
    assert f'"price":{PRICE},' in raw(r)
    assert r.json["price"] == Decimal(PRICE)
    db.session.expire_all()
    assert db.session.scalar(select(Product.price).where(Product.code == "GOLD")) == \
        Decimal(PRICE)
    assert f'"price":{PRICE},' in raw(client.get("/api/products/GOLD", headers=as_admin))
    r = client.put("/api/products/GOLD", data='{"code": "GOLD", "name": "Gold bar", '
                   '"price": 99999999999999.9999, "_v": 1}', content_type="application/json",
                   headers=as_admin)
    assert r.status_code == 200, r.json
    assert '"price":99999999999999.9999,' in raw(r)


def test_amounts_are_stored_exactly_on_each_database(app, catalog):
    products.create_product(code="GOLD", name="Gold bar", price=Decimal(PRICE))
    stored = db.session.execute(text("SELECT price FROM products WHERE code = 'GOLD'")).scalar()
    if db.engine.dialect.name == "sqlite":
        # Whole units of the fourth decimal, in an INTEGER: no REAL in between.
        assert db.session.execute(text(
            "SELECT typeof(price) FROM products WHERE code = 'GOLD'")).scalar() == "integer"
        assert stored == 12345678901234567
    else:
        assert stored == Decimal(PRICE)


@pytest.fixture
def two_orders(catalog, waiter):
    """Two orders whose totals differ in the last cent only."""
    for code, price in (("HIGH", HIGH), ("LOW", LOW)):
        products.create_product(code=code, name=code.title(), price=Decimal(price),
                                station_names=["Bar"])
    _, (high,) = make_ticket(waiter, catalog, ("HIGH", 1), name="High")
    _, (low,) = make_ticket(waiter, catalog, ("LOW", 1), name="Low")
    return high, low


def test_orders_answer_every_digit_listed_cached_and_alone(client, manager, two_orders):
    high, _ = two_orders
    headers = bearer(manager)
    first = raw(client.get("/api/orders", headers=headers))
    again = raw(client.get("/api/orders", headers=headers))  # from the cached documents
    assert first == again
    for text_ in (first, raw(client.get(f"/api/orders/{high.id}", headers=headers))):
        assert f'"unitPrice":{HIGH},"total":{HIGH}' in text_
        assert f'"subTotal":{HIGH},"discountTotal":0,"shippingTotal":0,"orderTotal":{HIGH}' \
            in text_
    # The indented answer (debugging) reads the cached documents back: exactly, too.
    client.application.json.compact = False
    try:
        indented = raw(client.get("/api/orders", headers=headers))
    finally:
        client.application.json.compact = None
    assert f'"orderTotal": {HIGH}' in indented and f'"orderTotal": {LOW}' in indented


@pytest.mark.parametrize("query,names", [
    (f"orderTotal=gt:{LOW}", ["High"]),
    (f"orderTotal=gte:{HIGH}", ["High"]),
    (f"orderTotal=lt:{HIGH}", ["Low"]),
    (f"orderTotal={LOW}", ["Low"]),
    (f"orderTotal=neq:{LOW}", ["High"]),
    (f"orderTotal=in:{HIGH},1", ["High"]),
    ("$sort=orderTotal", ["Low", "High"]),
    ("$sort=-orderTotal", ["High", "Low"]),
    ("orderTotal=gt:12.5", ["Low", "High"]),
])
def test_filters_and_sorting_compare_amounts_exactly(client, manager, two_orders, query, names):
    query = query if "$sort" in query else query + "&$sort=orderTotal"
    r = client.get(f"/api/orders?{query}", headers=bearer(manager))
    assert r.status_code == 200, r.json
    assert [o["ticket"]["name"] for o in r.json["items"]] == names


def test_sums_in_sql_are_exact_decimals(app, two_orders):
    total = db.session.scalar(select(func.sum(Order.order_total)))
    assert total == Decimal("199999999999999.97")
    assert db.session.scalar(select(func.sum(OrderItem.quantity))) == 2


def test_checkout_amounts_are_exact(client, catalog):
    products.create_product(code="CARD", name="Card", price=Decimal("2.45"),
                            station_names=["Pass"])
    headers = bearer(make_user("ann"), "web-shop")
    guid = client.post("/api/basket", headers=headers).json["guid"]
    assert client.post(f"/api/basket/{guid}/line", json={"productCode": "CARD", "quantity": 1},
                       headers=headers).status_code == 201
    r = checkout(client, headers, guid, discountTotal="0.01", shippingTotal=SHIPPING)
    assert r.status_code == 201, r.json
    assert f'"shippingTotal":{SHIPPING},"orderTotal":98765432109878.98' in raw(r)


# --- bounds: what the columns hold, refused with 400 beyond -----------------------------------

@pytest.mark.parametrize("price", ["100000000000000", "1e14", "99999999999999.99999", "-0.0001"])
def test_a_price_beyond_its_column_is_refused(client, catalog, as_admin, price):
    r = post_raw(client, "/api/products",
                 f'{{"code": "GOLD", "name": "Gold", "price": {price}}}', as_admin)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert [e["memberName"] for e in r.json["errors"]] == ["price"]
    assert client.get("/api/products/GOLD", headers=as_admin).status_code == 404


def test_ticket_lines_adding_up_beyond_an_item_quantity_are_refused(client, catalog, waiter):
    # Each line is within bounds; together they are one item of 101 billion breads.
    headers = bearer(waiter, "POS-1")
    body = {"name": "Table 1", "items": [{"productCode": "BREAD", "quantity": 999999999}] * 101}
    r = client.post("/api/tickets", json=body, headers=headers)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert [e["memberName"] for e in r.json["errors"]] == ["items"]
    assert client.get("/api/tickets", headers=headers).json["totalCount"] == 0
    assert db.session.scalar(select(func.count()).select_from(TicketItem)) == 0
    assert client.get("/api/orders", headers=headers).json["totalCount"] == 0


@pytest.mark.parametrize("member,value", [
    ("discountTotal", "100000000000000"), ("shippingTotal", "100000000000000"),
    ("shippingTotal", "1e400"),
])
def test_checkout_amounts_beyond_their_column_are_refused(client, catalog, member, value):
    headers = bearer(make_user("ann"), "web-shop")
    guid = client.post("/api/basket", headers=headers).json["guid"]
    client.post(f"/api/basket/{guid}/line", json={"productCode": "COLA", "quantity": 1},
                headers=headers)
    r = checkout(client, headers, guid, **{member: value})
    assert r.status_code == 400, r.json
    assert [e["memberName"] for e in r.json["errors"]] == [member]
    assert client.get(f"/api/basket/{guid}", headers=headers).status_code == 200


@pytest.mark.parametrize("quantity", ["1000000000", "0.0001", "1e9"])
def test_a_basket_quantity_beyond_its_bound_is_refused(client, catalog, quantity):
    headers = bearer(make_user("ann"), "web-shop")
    guid = client.post("/api/basket", headers=headers).json["guid"]
    r = post_raw(client, f"/api/basket/{guid}/line",
                 f'{{"productCode": "COLA", "quantity": {quantity}}}', headers)
    assert r.status_code == 400
    assert [e["memberName"] for e in r.json["errors"]] == ["quantity"]
