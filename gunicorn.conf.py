"""gunicorn settings for `make serve` (the README's Production section).

Several worker processes share the database (PostgreSQL in production) and, for rate limits,
Redis. Migrations run once in the master before any worker starts, so workers never race to
migrate. Logs are JSON lines on stderr: gunicorn's own and the app's request log (with the
request id), in one format.
"""
import multiprocessing
import os
import subprocess
import sys

from app.http.logs import LOGCONFIG

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
# Threads let a worker wait on the database for one request while serving another; screens
# poll every second or two, so there are many short requests.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (with jitter), so no slow leak can grow.
max_requests = 5000
max_requests_jitter = 500
wsgi_app = "wsgi:app"
# gunicorn 25+ opens a control socket at one path per user; two servers on a host (a test and
# `make serve`) would take it from each other, and nothing here uses gunicornc.
control_socket_disable = True
accesslog = None  # the app logs every request itself, with its request id
errorlog = "-"
logconfig_dict = LOGCONFIG
# gunicorn believes no X-Forwarded-* header of anyone (by default it would take the scheme from
# any process on this host): the app's ProxyFix reads them, and only with PROXY_FIX_HOPS set
# (app.http.security), so one setting decides whom to believe.
forwarded_allow_ips = ""


def on_starting(server):
    """Check the settings, then apply the migrations once, before any worker starts.

    A setting the app cannot start with (no SECRET_KEY outside development, say) stops gunicorn
    here with its one sentence: gunicorn prints a RuntimeError as "Error: ..." and exits, where
    workers failing one after another would only fill the log with tracebacks.
    Migrations run in a process of their own: Alembic's env.py configures logging (text lines,
    existing loggers disabled), which must not leak into the master the workers are forked from.
    """
    from app.config import load_config

    load_config(os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance"))
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   check=True)
    server.log.info("migrations applied")


def when_ready(server):
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory://"):
        server.log.warning("RATELIMIT_STORAGE_URI is memory:// with %s workers: each worker "
                           "counts sign-in attempts on its own; use redis://", server.cfg.workers)
