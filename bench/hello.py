"""The bare WSGI hello-world every benchmark row is divided by. No framework, no database:
what gunicorn and the loopback cost on this machine, measured in the same run under the same
server settings, so a ratio survives a busy or slow machine."""

BODY = b"Hello, world!\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
