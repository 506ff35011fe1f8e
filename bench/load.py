"""A small load generator on loopback: groups of client processes, one request in flight each.

A row loads the server with one or more Groups at once: its measured clients, and beside them
what else runs in a kitchen meanwhile (ticket updates, wall screens polling). A group's clients
either send back to back (`every=None`: as fast as the server answers) or send on a clock tick
every `every` seconds, as a screen's poll or a till does: a tick that comes while the client
still waits for its last answer is dropped, as htmx drops a poll while one is in flight, so a
slow server sees fewer requests, never a burst.

Processes rather than threads, so one client's Python work never holds up another's response
through the GIL and the latencies are the server's. Every request opens its own connection and
asks for `Connection: close`, which is what gunicorn's sync workers do anyway. Every request's
status and latency is kept, so percentiles come from the samples themselves. Bounded: a run
lasts `warmup + seconds` plus at most one request per process, and a request gives up after
`timeout` seconds (counted as an error, never as a latency).
"""
import hashlib
import math
import multiprocessing
import socket
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import wait

HOST = "127.0.0.1"
MAX_BODY_KEPT = 1 << 20  # a script that reads answers sees at most this much of each


def http_request(method: str, path: str, headers: dict | None = None,
                 body: bytes = b"") -> bytes:
    """The raw bytes of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Group:
    """Clients that run the same script. `script(index, seq)` gives a client's next request; a
    script with an `answered(index, status, answer)` method also sees each answer (the raw
    bytes), for clients whose next request depends on the last one (a screen's version)."""
    name: str
    script: object
    clients: int
    every: float | None = None  # seconds between one client's request starts; None: no pause


@dataclass
class Result:
    """What one group measured: only requests started inside the measured window count."""
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)  # seconds, sorted
    by_status: dict = field(default_factory=dict)  # status -> its latencies, sorted
    bytes_received: int = 0
    errors: Counter = field(default_factory=Counter)  # connection failures, timeouts
    distinct: int = 0  # how many different requests were measured

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float, status: int | None = None) -> float:
        """Nearest-rank percentile, in seconds, of every request or of those answered
        `status` (0 when there is none)."""
        samples = self.latencies if status is None else self.by_status.get(status, [])
        if not samples:
            return 0.0
        rank = max(1, round(p / 100 * len(samples)))
        return samples[min(rank, len(samples)) - 1]


def _exchange(port: int, request: bytes, timeout: float, keep: bool) -> tuple[int, int, bytes]:
    """Send one request and read the whole answer; (status, bytes received, the answer when
    `keep`, else b"")."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks, size = [], 0
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            size += len(chunk)
            if not chunks or (keep and size <= MAX_BODY_KEPT):
                chunks.append(chunk)
    answer = b"".join(chunks)
    if not answer.startswith(b"HTTP/1."):
        raise ConnectionError("no HTTP answer")
    return int(answer[9:12]), size, answer if keep else b""


def _client(index, port, group, start_at, stop_at, timeout, pipe):
    latencies, codes, errors = array("d"), array("H"), Counter()
    seen = set()
    script, every = group.script, group.every
    answered = getattr(script, "answered", None)
    make = script if callable(script) else script.request
    received, seq, last_done, tried = 0, 0, start_at, False
    # Paced clients start spread over one period, so thirty screens do not poll in step.
    due = time.monotonic() + (every * index / group.clients if every else 0.0)
    while True:
        if every:
            now = time.monotonic()
            if now > due:  # the ticks that passed while the last answer came are dropped,
                due += math.ceil((now - due) / every) * every  # as htmx drops them
            if due >= stop_at and tried:
                break
            time.sleep(max(0.0, due - now))
            due += every
        started = time.monotonic()
        # Every client tries at least one measured request, so a row slower than the window
        # still reports its latency (its requests per second are then rough).
        if started >= stop_at and tried:
            break
        tried = tried or started >= start_at
        request = make(index, seq)
        seq += 1
        try:
            status, size, answer = _exchange(port, request, timeout, answered is not None)
        except OSError as error:  # refused, reset, timed out
            # A failure counts once it ends in the window, even if the request began in the
            # warm-up: a row whose every request times out ends after one timeout, not two.
            if time.monotonic() >= start_at:
                errors[type(error).__name__] += 1
                tried = True
            time.sleep(0.01)
            continue
        done = time.monotonic()
        if answered is not None:
            answered(index, status, answer)
        if started >= start_at:  # the warm-up is not measured
            latencies.append(done - started)
            codes.append(status)
            seen.add(hashlib.blake2b(request, digest_size=8).digest())
            received += size
            last_done = done
    pipe.send((latencies.tobytes(), codes.tobytes(), errors, received, last_done, seen))
    pipe.close()


def run(port: int, groups: list[Group], *, seconds: float, warmup: float = 1.0,
        timeout: float = 120.0, on_tick=None) -> dict[str, Result]:
    """Load 127.0.0.1:`port` with every group at once; a Result per group name.

    `on_tick()` is called about four times a second while the load runs (the harness samples
    worker memory there), in this process, so nothing else runs threads beside the fork.
    """
    context = multiprocessing.get_context("fork")
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    clients = []  # (group name, pipe, process)
    for group in groups:
        for index in range(group.clients):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_client, daemon=True, args=(
                index, port, group, start_at, stop_at, timeout, writer))
            process.start()
            writer.close()
            clients.append((group.name, reader, process))
    answers = {group.name: [] for group in groups}
    waiting = {reader: name for name, reader, _ in clients}
    deadline = stop_at + 2 * timeout + 10  # at worst a warm-up request, then one measured
    while waiting and time.monotonic() < deadline:
        for ready in wait(list(waiting), timeout=0.25):
            try:
                answers[waiting[ready]].append(ready.recv())
            except EOFError:
                pass  # a client died; its requests are lost, the others still count
            del waiting[ready]
        if on_tick and time.monotonic() >= start_at:
            on_tick()
    for _, _, process in clients:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    return {group.name: _merge(answers[group.name], group.clients, start_at, stop_at)
            for group in groups}


def _merge(answers: list, clients: int, start_at: float, stop_at: float) -> Result:
    result = Result(seconds=0.0)
    last = start_at
    samples, seen = [], set()
    for raw, raw_codes, errors, received, last_done, hashes in answers:
        latencies, codes = array("d"), array("H")
        latencies.frombytes(raw)
        codes.frombytes(raw_codes)
        samples += zip(codes, latencies)
        result.errors.update(errors)
        result.bytes_received += received
        seen |= hashes
        last = max(last, last_done)
    if len(answers) < clients:
        result.errors["client lost"] += clients - len(answers)
    for status, latency in samples:
        result.statuses[status] += 1
        result.by_status.setdefault(status, []).append(latency)
    for latencies in result.by_status.values():
        latencies.sort()
    result.latencies = sorted(latency for _, latency in samples)
    result.distinct = len(seen)
    # A request started just before the end may finish after it: it counts, and so does
    # the time it took.
    result.seconds = max(stop_at, last) - start_at
    return result
