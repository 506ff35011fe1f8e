"""The print-shop routes (contract 3.2): projects, baskets, lines and checkout. Every route is
the signed-in user's own: others' objects answer 404."""
from flask import g, jsonify, request

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.bodies import BasketLineWrite, Checkout, ProjectWrite, parse_body
from app.api.orders import order_response
from app.api.serializers import basket_json, project_json
from app.core.query import parse_includes
from app.services import baskets


def _basket_response(basket, status: int = 200):
    response = jsonify(basket_json(basket, baskets.prices_for([basket])))
    response.status_code = status
    return response


@bp.post("/project")
@guarded(SIGNED_IN)
def create_project():
    body = parse_body(ProjectWrite)
    project = baskets.create_project(user=g.user, name=body.name, product_code=body.product_code)
    response = jsonify(project_json(project))
    response.status_code = 201
    response.headers["Location"] = f"/api/project/{project.guid}"
    return response


@bp.get("/projects")
@guarded(SIGNED_IN)
def list_projects():
    return jsonify([project_json(p) for p in baskets.list_projects(user=g.user)])


@bp.get("/project/<guid>")
@guarded(SIGNED_IN)
def get_project(guid):
    parse_includes(request.args)
    return jsonify(project_json(baskets.get_project(user=g.user, guid=guid)))


@bp.delete("/project/<guid>")
@guarded(SIGNED_IN)
def delete_project(guid):
    baskets.delete_project(user=g.user, guid=guid)
    return "", 204


@bp.post("/basket")
@guarded(SIGNED_IN)
def create_basket():
    basket = baskets.create_basket(user=g.user)
    response = _basket_response(basket, 201)
    response.headers["Location"] = f"/api/basket/{basket.guid}"
    return response


@bp.get("/baskets")
@guarded(SIGNED_IN)
def list_baskets():
    found = baskets.list_baskets(user=g.user)
    prices = baskets.prices_for(found)
    return jsonify([basket_json(b, prices) for b in found])


@bp.get("/basket/<guid>")
@guarded(SIGNED_IN)
def get_basket(guid):
    parse_includes(request.args)
    return _basket_response(baskets.get_basket(user=g.user, guid=guid))


@bp.delete("/basket/<guid>")
@guarded(SIGNED_IN)
def delete_basket(guid):
    baskets.delete_basket(user=g.user, guid=guid)
    return "", 204


@bp.post("/basket/<guid>/line")
@guarded(SIGNED_IN)
def add_basket_line(guid):
    body = parse_body(BasketLineWrite)
    basket = baskets.add_line(user=g.user, guid=guid, quantity=body.quantity,
                              project_guid=body.project_guid, product_code=body.product_code)
    return _basket_response(basket, 201)


@bp.put("/basket/<guid>/line/<int:line_id>")
@guarded(SIGNED_IN)
def update_basket_line(guid, line_id):
    body = parse_body(BasketLineWrite)
    basket = baskets.update_line(user=g.user, guid=guid, line_id=line_id,
                                 quantity=body.quantity, project_guid=body.project_guid,
                                 product_code=body.product_code)
    return _basket_response(basket)


@bp.delete("/basket/<guid>/line/<int:line_id>")
@guarded(SIGNED_IN)
def delete_basket_line(guid, line_id):
    baskets.delete_line(user=g.user, guid=guid, line_id=line_id)
    return "", 204


@bp.post("/basket/<guid>/checkout")
@guarded(SIGNED_IN)
def checkout_basket(guid):
    body = parse_body(Checkout)
    address = body.shipping_address.model_dump(by_alias=True) if body.shipping_address else None
    order = baskets.checkout_basket(
        user=g.user, device=g.credential.device, guid=guid, currency=body.currency,
        shipping_method=body.shipping_method, shipping_address=address,
        discount_total=body.discount_total, shipping_total=body.shipping_total)
    response = order_response(order, 201)
    response.headers["Location"] = f"/api/order/{order.id}"
    return response
