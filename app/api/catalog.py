"""Products and stations (`/orderendpoints`): read by anyone signed in, managed by admins."""
from flask import jsonify, request, url_for

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.bodies import ProductWrite, StationWrite, expected_version, parse_body
from app.api.serializers import delivery_json, product_json, station_json, versioned
from app.core import rights as R
from app.core.query import parse_includes
from app.services import dispatch, products, station_health, stations


@bp.get("/products")
@guarded(SIGNED_IN)
def list_products():
    return jsonify([product_json(p) for p in products.list_products()])


@bp.get("/products/<code>")
@guarded(SIGNED_IN)
def get_product(code):
    parse_includes(request.args)
    return versioned(product_json(products.get_product(code)))


def _product_fields(body: ProductWrite) -> dict:
    return {"code": body.code, "name": body.name, "price": body.price,
            "station_names": body.station_names, "course": body.course,
            "prep_seconds": body.prep_seconds,
            "allergens": [str(a) for a in body.allergens]}


@bp.post("/products")
@guarded(R.ADMIN)
def create_product():
    product = products.create_product(**_product_fields(parse_body(ProductWrite)))
    response = versioned(product_json(product), 201)
    response.headers["Location"] = url_for("api.get_product", code=product.code)
    return response


@bp.put("/products/<code>")
@guarded(R.ADMIN)
def update_product(code):
    body = parse_body(ProductWrite)
    product = products.update_product(code, version=expected_version(body.version),
                                      **_product_fields(body))
    return versioned(product_json(product))


@bp.delete("/products/<code>")
@guarded(R.ADMIN)
def delete_product(code):
    products.delete_product(code, version=expected_version(None))
    return "", 204


@bp.get("/orderendpoints")
@guarded(SIGNED_IN)
def list_stations():
    found = stations.list_stations()
    health = station_health.health_of(found)
    return jsonify([station_json(s, health[s.id]) for s in found])


def _station_answer(station, status: int = 200):
    """One station with its health, and an ETag of its `_v` (for If-Match; station answers
    are not conditional, so the health, which changes without `_v`, is always fresh)."""
    health = station_health.health_of([station])[station.id]
    return versioned(station_json(station, health), status)


@bp.get("/orderendpoints/<name>")
@guarded(SIGNED_IN)
def get_station(name):
    parse_includes(request.args)
    return _station_answer(stations.get_station(name))


def _station_fields(body: StationWrite) -> dict:
    return {"name": body.name, "type": body.type, "is_active": body.is_active,
            "address": body.address, "settings": body.settings, "secret": body.secret,
            "backup_station_name": body.backup_station_name}


@bp.post("/orderendpoints")
@guarded(R.ADMIN)
def create_station():
    station = stations.create_station(**_station_fields(parse_body(StationWrite)))
    response = _station_answer(station, 201)
    response.headers["Location"] = url_for("api.get_station", name=station.name)
    return response


@bp.put("/orderendpoints/<name>")
@guarded(R.ADMIN)
def update_station(name):
    body = parse_body(StationWrite)
    station = stations.update_station(name, version=expected_version(body.version),
                                      **_station_fields(body))
    return _station_answer(station)


@bp.get("/orderendpoints/<name>/deliveries")
@guarded(R.ADMIN)
def station_deliveries(name):
    """The station's latest 50 send attempts, newest first."""
    station = stations.get_station(name)
    return jsonify([delivery_json(d) for d in dispatch.deliveries(station)])


@bp.delete("/orderendpoints/<name>")
@guarded(R.ADMIN)
def delete_station(name):
    stations.delete_station(name, version=expected_version(None))
    return "", 204
