"""Sending a payload once: raw TCP to a printer, or a signed POST to a webhook.

Nothing here raises for network trouble: every outcome is an Attempt, so the caller decides about
retries and records what happened in words a manager can act on.
"""
import hashlib
import hmac
import http.client
import ipaddress
import socket
import time
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None  # HTTP status for webhooks, None for printers
    error: str | None  # short human reason when not ok
    duration_ms: int


DEFAULT_PRINTER_PORT = 9100  # the raw "JetDirect" port ESC/POS network printers listen on
SIGNATURE_HEADER = "X-Orders-Signature-256"


def parse_printer_address(address: str) -> tuple[str, int]:
    """(host, port) from "host", "host:port" or "[v6]:port". Raises ValueError when malformed."""
    text = address.strip()
    if not text:
        raise ValueError("The printer address is empty.")
    if "/" in text:
        raise ValueError(f"{address!r} is not a valid address: expected host or host:port, "
                         "without http:// or a path.")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise ValueError(f"{address!r} is not a valid address: an IPv6 address goes in "
                             "brackets, like [fd00::5]:9100.")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{address!r} is not a valid address: {host!r} in brackets is not "
                             "an IPv6 address.") from None
        if rest and not rest.startswith(":"):
            raise ValueError(f"{address!r} is not a valid address: expected :port after ].")
        port_text = rest[1:] if rest else None
    elif text.count(":") > 1:
        raise ValueError(f"{address!r} is not a valid address: write an IPv6 address in "
                         "brackets, like [fd00::5]:9100.")
    else:
        host, colon, port_text = text.partition(":")
        port_text = port_text if colon else None
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        raise ValueError(f"{address!r} is not a valid address: expected host or host:port.")
    if port_text is None:
        return host, DEFAULT_PRINTER_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{address!r} is not a valid address: the port must be a number "
                         "from 1 to 65535.")
    return host, int(port_text)


def check_webhook_url(url: str) -> str | None:
    """None when the URL can be posted to, else why not."""
    if not url or any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return "The webhook URL must not be empty or contain spaces."
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is not a number or out of range
    except ValueError:
        return f"{url!r} is not a valid URL."
    if port == 0:
        return "The webhook URL's port must be from 1 to 65535."
    if parts.scheme not in ("http", "https"):
        return "The webhook URL must start with http:// or https://."
    if not parts.hostname:
        return "The webhook URL must name a host."
    return None


def send_to_printer(address: str, data: bytes, *, connect_timeout: float,
                    send_timeout: float) -> Attempt:
    """Open, send all, close. At most connect_timeout + send_timeout (plus name lookup)."""
    started = time.monotonic()
    try:
        host, port = parse_printer_address(address)
    except ValueError as error:
        return _failed(started, str(error))
    try:
        connection = socket.create_connection((host, port), timeout=connect_timeout)
    except TimeoutError:
        return _failed(started, f"timed out connecting after {connect_timeout} s")
    except OSError as error:
        return _failed(started, _reason(error, host))
    try:
        with connection:
            connection.settimeout(send_timeout)
            connection.sendall(data)
            # Half-close: the printer sees the end of the job without waiting for its timeout.
            connection.shutdown(socket.SHUT_WR)
    except TimeoutError:
        return _failed(started, f"timed out sending after {send_timeout} s")
    except OSError as error:
        return _failed(started, _reason(error, host))
    return Attempt(ok=True, status_code=None, error=None, duration_ms=_since(started))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the order to a host the station was never configured for.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, body: bytes, *, secret: str, headers: dict[str, str],
                 timeout: float) -> Attempt:
    """POST the JSON body signed with the secret. 2xx is success; redirects are not followed.

    The timeout applies to connecting and to each wait for the answer; the response body is
    never read, so a slow one cannot hold the sender.
    """
    started = time.monotonic()
    problem = check_webhook_url(url)
    if problem:
        return _failed(started, problem)
    request = urllib.request.Request(url, data=body, method="POST")
    for name, value in headers.items():
        request.add_header(name, value)
    request.add_header("Content-Type", "application/json")
    request.add_header(SIGNATURE_HEADER, sign(secret, body))
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return _failed(started, f"timed out connecting after {timeout} s")
        if isinstance(reason, OSError):
            return _failed(started, _reason(reason, urlsplit(url).hostname))
        return _failed(started, str(reason))
    except TimeoutError:
        return _failed(started, f"timed out waiting for the answer after {timeout} s")
    except http.client.RemoteDisconnected:
        return _failed(started, "connection closed without an answer")
    except (OSError, http.client.HTTPException) as error:
        return _failed(started, _reason(error, urlsplit(url).hostname))
    except ValueError as error:  # a header value with a line break, a URL http.client rejects
        return _failed(started, str(error))
    duration = _since(started)
    if 200 <= status < 300:
        return Attempt(ok=True, status_code=status, error=None, duration_ms=duration)
    if 300 <= status < 400:
        message = f"HTTP {status} (redirects are not followed)"
    else:
        message = f"HTTP {status}"
    return Attempt(ok=False, status_code=status, error=message, duration_ms=duration)


def _reason(error: Exception, host: str | None) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host {host!r}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


def _failed(started: float, error: str) -> Attempt:
    return Attempt(ok=False, status_code=None, error=error, duration_ms=_since(started))


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
