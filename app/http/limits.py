"""Rate limits on signing in (Flask-Limiter): per account and per client address.

The dashboard's `POST /sign-in` and the API's `POST /api/auth` share both limits:
- per account: failed attempts for one user name (from any address), so nobody can try
  password after password on one account; a successful sign-in costs nothing;
- per address: every attempt from one address (whatever the user name), so one client cannot
  spray passwords across many accounts.
The limit strings come from the configuration (`SIGN_IN_LIMIT_PER_ACCOUNT`,
`SIGN_IN_LIMIT_PER_ADDRESS`). Counters live in `RATELIMIT_STORAGE_URI`: `memory://` for one
process; Redis as soon as several workers serve, or each would count on its own. If Redis goes
away the limiter counts in memory until it is back, rather than failing sign-ins.

A refused attempt answers 429 with Retry-After: problem+json under /api, a page elsewhere; the
two error modules render it like any other HTTP error.
"""
from functools import partial

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# The sign-in endpoints, limited on POST only (GET /sign-in shows the form).
SIGN_IN_ENDPOINTS = ("auth.sign_in", "api.sign_in")
MESSAGE = "Too many sign-in attempts. Wait a minute, then try again."


def account_key() -> str:
    """The user name a sign-in attempt names, case-folded; "" when it names none."""
    name = request.form.get("user_name")
    if name is None:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            # API bodies match member names case-insensitively (contract 2.1).
            name = next((v for k, v in body.items() if str(k).lower() == "username"), None)
    return "account:" + (name.strip().lower() if isinstance(name, str) else "")


def address_key() -> str:
    return "address:" + (get_remote_address() or "")


def _failed(response) -> bool:
    return response.status_code == 401


def register_limits(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "orders-hub")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # One limiter per app: limits attach to it by view name, and tests build several apps.
    limiter = Limiter(key_func=address_key, app=app)
    # The limits hold the limiter weakly; a disabled limiter is not kept by the app otherwise.
    app.extensions["sign_in_limiter"] = limiter
    # Shared limits: one count for both sign-in routes, so switching between them gains nothing.
    per_account = limiter.shared_limit(
        lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], scope="sign-in-account",
        key_func=account_key, methods=["POST"], deduct_when=_failed, error_message=MESSAGE)
    per_address = limiter.shared_limit(
        lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], scope="sign-in-address",
        key_func=address_key, methods=["POST"], error_message=MESSAGE)
    for endpoint in SIGN_IN_ENDPOINTS:
        # Wrapped here rather than decorated in the view modules: the limits are this module's
        # concern, and the views stay as they were. The limiter checks both before the view.
        app.view_functions[endpoint] = per_address(per_account(app.view_functions[endpoint]))
    _hooks_for_sign_in_only(app, limiter)


def _hooks_for_sign_in_only(app: Flask, limiter: Limiter) -> None:
    """Flask-Limiter hooks into every request (before, after, teardown) to look for limits;
    only the sign-in routes have any, so its hooks run for those alone. That is about 70 µs off
    every other request, a tenth of an API page's time."""
    def ours(hook) -> bool:
        return getattr(hook, "__self__", None) is limiter or (
            isinstance(hook, partial) and limiter in hook.args)

    def gated(hook, passes_response: bool):
        def hook_for_sign_in(*args):
            if request.endpoint in SIGN_IN_ENDPOINTS:
                return hook(*args)
            return args[0] if passes_response else None
        return hook_for_sign_in

    found = 0
    for hooks, passes_response in ((app.before_request_funcs, False),
                                   (app.after_request_funcs, True),
                                   (app.teardown_request_funcs, False)):
        found += sum(1 for hook in hooks.get(None, []) if ours(hook))
        hooks[None] = [gated(h, passes_response) if ours(h) else h for h in hooks.get(None, [])]
    if limiter.enabled and found != 3:  # hooked in otherwise: fail at start, not silently
        raise RuntimeError(f"expected Flask-Limiter's three request hooks, found {found}")
