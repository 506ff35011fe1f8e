"""Conditional GETs: repeated requests are answered by HTTP itself.

A list or page carries an ETag made from what decides its content: the change counter and the
stations' version (app.services.orders.list_versions), whose orders the caller sees, and the
query. Asked again with that ETag in If-None-Match, it answers 304 with no body, after the same
authentication and authorisation as the full answer (the view decides the ETag only once it
knows who asks), so a 304 never tells anyone about orders they may not see.
"""
import hashlib

from flask import current_app, request


def etag_of(*parts) -> str:
    """An opaque tag of these parts (anything with a stable repr: ints, strings, tuples)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def not_modified(etag: str, *, vary: tuple[str, ...] = ()):
    """The 304 answer when the request's If-None-Match names `etag`, else None. It carries
    the headers the full answer would (ETag, Cache-Control, Vary)."""
    if not request.if_none_match.contains_weak(etag):
        return None
    return tagged(current_app.response_class(status=304), etag, vary=vary)


def tagged(response, etag: str, *, vary: tuple[str, ...] = ()):
    """Give an answer its ETag. `private, no-cache`: a client may keep it but asks again every
    time (and gets 304 while nothing changed); shared caches keep nothing. `vary`: the request
    headers besides the URL that the answer depends on (the caller's credentials)."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    for header in vary:
        response.vary.add(header)
    return response
