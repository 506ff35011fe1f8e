"""One request pipeline: every request goes through Flask's own handling (sessions, login,
CSRF, hooks, error handlers, logs). Nothing answers in front of it: the WSGI callable is
Flask's, or werkzeug's ProxyFix around it when proxies are configured."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from tests.conftest import make_app


def _is_flasks_own(wsgi_app, app) -> bool:
    return getattr(wsgi_app, "__func__", None) is Flask.wsgi_app and wsgi_app.__self__ is app


def test_nothing_answers_before_flask(app):
    assert _is_flasks_own(app.wsgi_app, app)


def test_behind_proxies_only_proxyfix_wraps_flask(database_urls):
    app = make_app(next(iter(database_urls.values())), PROXY_FIX_HOPS=1)
    assert isinstance(app.wsgi_app, ProxyFix)
    assert _is_flasks_own(app.wsgi_app.app, app)
