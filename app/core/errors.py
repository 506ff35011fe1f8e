"""Domain errors raised by services and the query parser.

Services never choose HTTP status codes; the API and HTML error modules map these classes to
responses in one place each.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    member_name: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    """Base class: every error a service may raise on purpose."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """Malformed input; `errors` names each offending member."""

    def __init__(self, errors: list[FieldError], message: str = "The request is not valid."):
        super().__init__(message)
        self.errors = list(errors)


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The current state does not allow the change (a refused status move, a closed ticket)."""

    def __init__(self, message: str, member_name: str = "status"):
        super().__init__(message)
        self.errors = [FieldError(member_name, message, "conflict")]


class VersionMismatch(DomainError):
    """The caller named an older `_v` than the stored one."""

    def __init__(self, current_version: int, given_version: int):
        super().__init__(
            f"The resource has version {current_version}; the request named {given_version}."
        )
        self.current_version = current_version
        self.given_version = given_version


class Locked(DomainError):
    """The resource is busy; the client may retry."""
