"""Bearer-token authentication and the right each API route needs.

`route_rights` records every route's right so the route x right test matrix can be built from
the URL map: a route that forgets to declare itself fails that test. The creating POST routes
named in app.http.idempotency run under their Idempotency-Key once the caller is authenticated.
"""
from functools import wraps

from flask import g, request

from app.core import rights as R
from app.core.errors import Forbidden, Unauthenticated
from app.http import idempotency
from app.http.logs import new_request_id  # noqa: F401  (app.api.auth assigns it)
from app.services.users import authenticate

SIGNED_IN = "signedIn"
PUBLIC = "public"
route_rights: dict[str, str] = {}


def bearer_of(header: str) -> str | None:
    """The secret of an Authorization header's bearer scheme, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def bearer_secret() -> str | None:
    return bearer_of(request.headers.get("Authorization", ""))


def guarded(right: str):
    """Require a live token, and `right` unless it is SIGNED_IN or PUBLIC."""
    def decorate(view):
        endpoint = "api." + view.__name__
        route_rights[endpoint] = right
        # A creating POST route runs once per Idempotency-Key, after the caller is known.
        run = idempotency.idempotent(view) if endpoint in idempotency.ENDPOINTS else view

        @wraps(view)
        def wrapper(*args, **kwargs):
            if right != PUBLIC:
                credential = authenticate(bearer_secret() or "")
                if credential is None:
                    raise Unauthenticated("A valid bearer token is required.")
                g.credential, g.user = credential, credential.user
                if right != SIGNED_IN and not R.has_right(credential.user.rights, right):
                    raise Forbidden(f"This needs the {right} right.")
            return run(*args, **kwargs)
        return wrapper
    return decorate
