"""Bearer-token authentication and the right each API route needs.

`route_rights` records every route's right so the route x right test matrix can be built from
the URL map: a route that forgets to declare itself fails that test.
"""
import secrets
from functools import wraps

from flask import g, request

from app import rights as R
from app.errors import Forbidden, Unauthenticated
from app.services.users import authenticate

SIGNED_IN = "signedIn"
PUBLIC = "public"
route_rights: dict[str, str] = {}


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def guarded(right: str):
    """Require a live token, and `right` unless it is SIGNED_IN or PUBLIC."""
    def decorate(view):
        route_rights["api." + view.__name__] = right

        @wraps(view)
        def wrapper(*args, **kwargs):
            if right != PUBLIC:
                credential = authenticate(bearer_secret() or "")
                if credential is None:
                    raise Unauthenticated("A valid bearer token is required.")
                g.credential, g.user = credential, credential.user
                if right != SIGNED_IN and not R.has_right(credential.user.rights, right):
                    raise Forbidden(f"This needs the {right} right.")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def new_request_id() -> str:
    return secrets.token_hex(8)
