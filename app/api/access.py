"""Bearer-token authentication and the right each API route needs.

`route_rights` records every route's right so the route x right test matrix can be built from
the URL map: a route that forgets to declare itself fails that test. The creating POST routes
named in app.http.idempotency run under their Idempotency-Key once the caller is authenticated.
A route guarded with `dashboard=True` also lets in a person signed in to the dashboard
(`dashboard_routes` records which), so a link on a dashboard page works in the browser.
"""
from functools import wraps

from flask import g, request
from flask_login import current_user

from app.core import rights as R
from app.core.errors import Forbidden, Unauthenticated
from app.http import idempotency
from app.http.logs import new_request_id  # noqa: F401  (app.api.auth assigns it)
from app.services.users import authenticate

SIGNED_IN = "signedIn"
PUBLIC = "public"
route_rights: dict[str, str] = {}
dashboard_routes: set[str] = set()


def bearer_of(header: str) -> str | None:
    """The secret of an Authorization header's bearer scheme, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def bearer_secret() -> str | None:
    return bearer_of(request.headers.get("Authorization", ""))


def guarded(right: str, *, dashboard: bool = False):
    """Require a live token, and `right` unless it is SIGNED_IN or PUBLIC. `dashboard`: a
    dashboard session will do instead of a token. Only for SIGNED_IN reads that change nothing:
    the session cookie goes along with requests other sites make, the bearer token does not."""
    if dashboard and right != SIGNED_IN:
        raise ValueError("a dashboard session stands in for a token on SIGNED_IN routes only")

    def decorate(view):
        endpoint = "api." + view.__name__
        route_rights[endpoint] = right
        if dashboard:
            dashboard_routes.add(endpoint)
        # A creating POST route runs once per Idempotency-Key, after the caller is known.
        run = idempotency.idempotent(view) if endpoint in idempotency.ENDPOINTS else view

        @wraps(view)
        def wrapper(*args, **kwargs):
            if right != PUBLIC:
                credential = authenticate(bearer_secret() or "")
                if credential is None and dashboard and current_user.is_authenticated:
                    g.user = current_user._get_current_object()
                    return run(*args, **kwargs)
                if credential is None:
                    raise Unauthenticated("A valid bearer token is required.")
                g.credential, g.user = credential, credential.user
                if right != SIGNED_IN and not R.has_right(credential.user.rights, right):
                    raise Forbidden(f"This needs the {right} right.")
            return run(*args, **kwargs)
        return wrapper
    return decorate
