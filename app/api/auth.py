"""Sign-in, token refresh and sign-out (contract 4.4)."""
from flask import g, jsonify

from app.api import bp
from app.api.access import PUBLIC, SIGNED_IN, guarded
from app.api.bodies import Refresh, SignIn, parse_body
from app.api.serializers import signed_in_user_json
from app.http.json import format_datetime
from app.services import users


def _token_pair(issued):
    """The answer carrying a new token pair. `no-store`: no cache, shared or the client's own,
    may keep the secrets (RFC 6749, 5.1)."""
    token, token_id, refresh = issued
    response = jsonify({"tokenId": token_id, "refreshToken": refresh,
                        "expiresAt": format_datetime(token.expires_at),
                        "user": signed_in_user_json(token.user, token.device)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/auth")
@guarded(PUBLIC)
def sign_in():
    body = parse_body(SignIn)
    return _token_pair(users.sign_in(
        user_name=body.user_name, password=body.password, device_name=body.device_name))


@bp.get("/auth")
@guarded(SIGNED_IN)
def signed_in_user():
    return jsonify(signed_in_user_json(g.user, g.credential.device))


@bp.post("/auth/refresh")
@guarded(PUBLIC)
def refresh():
    body = parse_body(Refresh)
    return _token_pair(users.refresh_token(token_id=body.token_id, refresh=body.refresh_token))


@bp.delete("/auth")
@guarded(SIGNED_IN)
def sign_out():
    users.sign_out(g.credential)
    return "", 204


