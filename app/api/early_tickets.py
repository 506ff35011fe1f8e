"""A ticket update (`PUT /api/tickets/<id>`) answered before Flask, when all goes well.

A till sends one for every change to an open bill, so it is the write the hub makes most. Through
Flask, a request context, URL matching and every before and after hook cost about a fifth of the
update; here the same steps run without them: the body parsed as the view parses it (app.api.
bodies), the bearer token checked by the rules of app.services.users.authenticate (TokenRead,
in the same round trip as the ticket's and products' reads, app.plain_sql.pipeline), the right,
the service called (app.services.tickets.update_ticket) and its answer written as the view
writes it.

The rule is the other fronts' (app.kiosk_poll, app.api.kept_lists): answer only what the view
would answer the same way, and hand everything else to Flask untouched, with the body it sent:
another method or path, no bearer token or an API key, an If-Match header, a body that is not
JSON or is too large, HTTPS redirects and host matching, and every refusal (unknown token,
missing right, invalid body, stale version, closed ticket, an error). A refused update wrote
nothing (its transaction rolled back), so Flask runs it again and answers the refusal in its own
words.
The answer carries what the view's does (the ETag, security headers, Vary, X-Request-Id) and
leaves the same log line.
"""
import io
import re
import time

from flask import Flask

from app import rights as R
from app.api.access import bearer_of
from app.api.bodies import TicketWrite, parse_body
from app.api.serializers import ticket_json
from app.api.tickets import lines_of
from app.early_answer import answer_json
from app.extensions import db
from app.plain_sql import pipeline
from app.security import is_https
from app.services import tickets
from app.services.users import TokenRead

PATH = re.compile(r"/api/tickets/([^/\x00]+)")


def register_early_tickets(app: Flask) -> None:
    """Put the ticket updates right in front of Flask, behind the kiosk poll (which starts the
    dispatch sender) and the other fronts, which register after this."""
    poll = app.wsgi_app
    poll.wsgi_app = EarlyTickets(app, poll, poll.wsgi_app)


class EarlyTickets:
    def __init__(self, app: Flask, poll, wsgi_app):
        self.app, self.poll, self.wsgi_app = app, poll, wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        ours = self._ours(environ)
        if ours is None:
            return self.wsgi_app(environ, start_response)
        ticket_id, secret = ours
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        answer = self._update(ticket_id, secret, body)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.wsgi_app(environ, start_response)
        payload, version, user_name = answer
        return answer_json(self.poll, environ, start_response, payload, started=started,
                           user_name=user_name, method="PUT", headers=(("ETag", f'"{version}"'),))

    def _ours(self, environ) -> tuple[str, str] | None:
        """(ticket id, bearer secret) if this request is one to try here, else None."""
        if environ.get("REQUEST_METHOD") != "PUT" or "HTTP_IF_MATCH" in environ \
                or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        secret = bearer_of(environ.get("HTTP_AUTHORIZATION", ""))
        if secret is None:
            return None
        if environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json":
            return None
        config = self.app.config
        length, limit = environ.get("CONTENT_LENGTH", ""), config.get("MAX_CONTENT_LENGTH")
        if not length.isdigit() or (limit is not None and int(length) > limit):
            return None
        if config.get("SERVER_NAME") or (config.get("HTTPS") and not is_https(environ)):
            return None
        return match.group(1), secret

    def _update(self, ticket_id: str, secret: str, body: bytes):
        """(answer's bytes, the ticket's version, the user name) or None for Flask to answer."""
        with self.app.app_context():
            try:
                parsed = parse_body(TicketWrite, self.app.json.loads(body))
                lines = lines_of(parsed)
                connection = db.session.connection()
                # The token's check and the update's first reads in one round trip; nothing
                # read is used unless the token checks out.
                with pipeline(connection):
                    token = TokenRead(connection, secret)
                    ahead = tickets.read_ahead(connection, ticket_id, lines)
                signed = token.signed()
                if signed is None or not R.has_right(signed[0].rights, R.TICKET_UPDATE):
                    return None
                user, device = signed
                ticket, _ = tickets.update_ticket(
                    user=user, device=device, ticket_id=ticket_id, name=parsed.name,
                    lines=lines, version=parsed.version, ahead=ahead, answer_orders=False)
            except Exception:  # noqa: BLE001 - every refusal and error is Flask's to answer
                return None
            payload = self.app.json.response(ticket_json(ticket)).get_data()
            return payload, ticket.version, user.user_name
