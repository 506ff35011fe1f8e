"""Test doubles for dispatch: a network printer, an ESC/POS reader, bad printers, a webhook.

None of them needs Flask or a database; each listens on 127.0.0.1 on a port the kernel picks.
"""
import hashlib
import hmac
import socket
import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_HEADER = "X-Orders-Signature-256"


class _Recorder:
    """A loopback server in a thread that records what it receives, for tests to wait on."""
    what = "items"

    def __init__(self):
        self._items: list = []
        self._condition = threading.Condition()

    def _serve(self, server) -> None:
        self._server = server
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()

    def _add(self, item) -> None:
        with self._condition:
            self._items.append(item)
            self._condition.notify_all()

    def _recorded(self) -> list:
        with self._condition:
            return list(self._items)

    def wait_for(self, n: int, timeout: float = 10) -> list:
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._items) >= n, timeout=timeout):
                raise AssertionError(f"expected {n} {self.what} within {timeout} s, got "
                                     f"{len(self._items)}: {self._items!r}")
            return list(self._items)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakePrinter(_Recorder):
    """A raw-TCP printer: each connection's bytes, once the sender closes, are one job.

    Connections that send nothing (a probe, a refused job) are not jobs: a printer prints nothing.
    """
    what = "print jobs"

    def __init__(self):
        super().__init__()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(10)  # a sender that never closes must not pin a thread
                chunks = []
                try:
                    while chunk := self.request.recv(65536):
                        chunks.append(chunk)
                except OSError:
                    pass
                if chunks:
                    fake._add(b"".join(chunks))

        self._serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))
        self.address = f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def jobs(self) -> list[bytes]:
        return self._recorded()


@contextmanager
def stalling_printer():
    """An address where connecting hangs until the client's timeout.

    The listener has a backlog of 0 and never accepts; one dummy connection fills its accept
    queue, so Linux drops the SYNs of every later connect instead of answering them.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        filler.close()
        listener.close()


# Bound but never listening: connects are refused, and no other test can take the port meanwhile.
_refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_refusing.bind(("127.0.0.1", 0))


def refusing_address() -> str:
    return f"127.0.0.1:{_refusing.getsockname()[1]}"


# --- ESC/POS --------------------------------------------------------------------------------

ESC, GS, LF = 0x1B, 0x1D, 0x0A

# ESC t numbers of the python-escpos default profile that it can select, with Python's codec for
# each (all 128 upper characters of every one agree with python-escpos's own tables).
CODE_PAGES = {
    0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 13: "cp857", 14: "cp737",
    15: "iso8859_7", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858", 21: "cp874",
    32: "cp720", 33: "cp775", 34: "cp855", 35: "cp861", 36: "cp862", 37: "cp864", 38: "cp869",
    39: "iso8859_2", 40: "iso8859_15", 44: "cp1125", 45: "cp1250", 46: "cp1251", 47: "cp1253",
    48: "cp1254", 49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258",
}


@dataclass
class DecodedSlip:
    lines: list[str]  # printed text lines, trailing spaces stripped
    large_lines: list[str]  # lines whose every visible character was double width and height
    bold_lines: list[str]
    inverted_lines: list[str]  # white on black
    cut: bool
    beeps: int  # total buzzer beeps requested
    commands: list[str] = field(default_factory=list)  # "text", "cut", "buzzer", "feed" in order

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Style:
    width: int = 1
    height: int = 1
    bold: bool = False
    underline: int = 0
    invert: bool = False
    align: int = 0
    code_page: int = 0


def decode_slip(data: bytes) -> DecodedSlip:
    """Read the ESC/POS commands render_slip emits; AssertionError on any other byte sequence."""
    slip = DecodedSlip(lines=[], large_lines=[], bold_lines=[], inverted_lines=[], cut=False,
                       beeps=0)
    style = _Style()
    line: list[tuple[str, _Style]] = []
    pos = 0

    def args(count: int) -> bytes:
        if pos + 2 + count > len(data):
            raise AssertionError(f"truncated command {data[pos:]!r} at byte {pos}")
        return data[pos + 2:pos + 2 + count]

    def end_line() -> None:
        text = "".join(c for c, _ in line).rstrip()
        visible = [s for c, s in line if not c.isspace()]
        slip.lines.append(text)
        if visible and all(s.width >= 2 and s.height >= 2 for s in visible):
            slip.large_lines.append(text)
        if visible and all(s.bold for s in visible):
            slip.bold_lines.append(text)
        if visible and all(s.invert for s in visible):
            slip.inverted_lines.append(text)
        line.clear()

    def note(command: str) -> None:
        if not slip.commands or slip.commands[-1] != command:
            slip.commands.append(command)

    while pos < len(data):
        byte = data[pos]
        if byte == LF:
            end_line()
            pos += 1
        elif byte >= 0x20 and byte != 0x7F:
            try:
                char = bytes([byte]).decode(CODE_PAGES[style.code_page])
            except UnicodeDecodeError:
                raise AssertionError(f"byte {byte:#x} at {pos} is not in code page "
                                     f"{style.code_page}") from None
            line.append((char, _Style(**vars(style))))
            note("text")
            pos += 1
        elif byte == ESC and pos + 1 < len(data):
            command = chr(data[pos + 1])
            if command == "@":  # initialise
                style = _Style()
                pos += 2
                continue
            if command == "B":  # buzzer: times, duration
                times, _ = args(2)
                slip.beeps += times
                note("buzzer")
                pos += 4
                continue
            if command not in "!aE-tdM":
                raise AssertionError(f"unknown command {data[pos:pos + 4]!r} at byte {pos}")
            (n,) = args(1)
            pos += 3
            if command == "!":  # print mode: 0x10 double height, 0x20 double width, 0x08 bold
                style.height = 2 if n & 0x10 else 1
                style.width = 2 if n & 0x20 else 1
                style.bold = bool(n & 0x08)
                style.underline = 1 if n & 0x80 else 0
            elif command == "a":
                style.align = n % 48
            elif command == "E":
                style.bold = bool(n & 1)
            elif command == "-":
                style.underline = n % 48
            elif command == "t":
                if n not in CODE_PAGES:
                    raise AssertionError(f"unknown code page {n} at byte {pos - 3}")
                style.code_page = n
            elif command == "d":  # print and feed n lines
                if line:
                    end_line()
                note("feed")
        elif byte == GS and pos + 1 < len(data):
            command = chr(data[pos + 1])
            if command == "!":  # character size: width - 1 in the high nibble, height - 1 low
                (n,) = args(1)
                style.width, style.height = (n >> 4) + 1, (n & 0x0F) + 1
                pos += 3
            elif command == "B":
                (n,) = args(1)
                style.invert = bool(n & 1)
                pos += 3
            elif command == "V":  # cut; modes 65 and 66 feed n lines first
                (mode,) = args(1)
                if mode in (0, 1, 48, 49):
                    pos += 3
                elif mode in (65, 66):
                    args(2)
                    pos += 4
                else:
                    raise AssertionError(f"unknown cut mode {mode} at byte {pos}")
                if line:
                    end_line()
                slip.cut = True
                note("cut")
            else:
                raise AssertionError(f"unknown command {data[pos:pos + 4]!r} at byte {pos}")
        else:
            raise AssertionError(f"unknown byte sequence {data[pos:pos + 4]!r} at byte {pos}")
    if line:
        end_line()
    return slip


# --- Webhooks -------------------------------------------------------------------------------

class Headers(dict):
    """Header names as received, looked up without regard to case (urllib sends "X-orders-...")."""

    def __init__(self, pairs):
        super().__init__((k.lower(), v) for k, v in pairs)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    body: bytes
    headers: Headers
    status: int  # what the receiver answered
    signature_ok: bool
    delivery_id: str | None
    attempt: str | None


class WebhookReceiver(_Recorder):
    """An HTTP endpoint that checks signatures and answers the given statuses in turn, then 200.

    A 3xx answer points Location at this receiver's /redirected, so a followed redirect shows up
    as an extra request.
    """

    what = "webhook requests"

    def __init__(self, secret: str, statuses: list[int] | None = None):
        super().__init__()
        self.secret = secret
        self._statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._answer(self)

            def do_GET(self):
                receiver._answer(self)

            def log_message(self, format, *args):
                pass

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        given = handler.headers.get(SIGNATURE_HEADER) or ""
        with self._condition:  # re-entrant with _add's: one turn of the statuses per request
            status = self._statuses.pop(0) if self._statuses else 200
            self._add(Received(
                method=handler.command, path=handler.path, body=body,
                headers=Headers(handler.headers.items()), status=status,
                signature_ok=hmac.compare_digest(given.encode(), expected.encode()),
                delivery_id=handler.headers.get("X-Orders-Delivery"),
                attempt=handler.headers.get("X-Orders-Attempt")))
        handler.send_response(status)
        if 300 <= status < 400:
            handler.send_header("Location", self.url.replace("/hook", "/redirected"))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @property
    def received(self) -> list[Received]:
        return self._recorded()
