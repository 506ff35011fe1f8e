"""`GET /api/openapi.json`: the OpenAPI 3.1 description of this API, built from the code by
app.api.description. Like every route but sign-in, it needs a token (contract 4), or a
dashboard session: the dashboard's API page links here, and a browser sends no token."""
from flask import current_app, jsonify

from app.api import bp
from app.api.access import SIGNED_IN, guarded
from app.api.description import description


@bp.get("/openapi.json")
@guarded(SIGNED_IN, dashboard=True)
def openapi_description():
    """The OpenAPI 3.1 description of this API (this document)"""
    return jsonify(description(current_app))
