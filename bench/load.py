"""A small load generator on loopback: `concurrency` processes, each with one request in flight.

Processes rather than threads, so one client's Python work never holds up another's response
through the GIL and the latencies are the server's. Every request opens its own connection and
asks for `Connection: close`, which is what gunicorn's sync workers do anyway. Bounded: a run
lasts `warmup + seconds` plus at most one request per process, and a request gives up after
`timeout` seconds (counted as an error, never as a latency).
"""
import multiprocessing
import socket
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import wait

HOST = "127.0.0.1"


def http_request(method: str, path: str, headers: dict | None = None,
                 body: bytes = b"") -> bytes:
    """The raw bytes of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Result:
    """What one load run measured: only requests started inside the measured window count."""
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)  # seconds, sorted
    bytes_received: int = 0
    errors: Counter = field(default_factory=Counter)  # connection failures, timeouts

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in seconds (0 when nothing was measured)."""
        if not self.latencies:
            return 0.0
        rank = max(1, round(p / 100 * len(self.latencies)))
        return self.latencies[min(rank, len(self.latencies)) - 1]


def _exchange(port: int, request: bytes, timeout: float) -> tuple[int, int]:
    """Send one request and read the whole answer; (status, bytes received)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks)
    if not answer.startswith(b"HTTP/1."):
        raise ConnectionError("no HTTP answer")
    return int(answer[9:12]), len(answer)


def _client(index, port, make_request, start_at, stop_at, timeout, pipe):
    latencies, statuses, errors = array("d"), Counter(), Counter()
    received, seq, last_done, tried = 0, 0, start_at, False
    while True:
        started = time.monotonic()
        # Every client tries at least one measured request, so a row slower than the window
        # still reports its latency (its requests per second are then rough).
        if started >= stop_at and tried:
            break
        tried = tried or started >= start_at
        request = make_request(index, seq)
        seq += 1
        try:
            status, size = _exchange(port, request, timeout)
        except OSError as error:  # refused, reset, timed out
            # A failure counts once it ends in the window, even if the request began in the
            # warm-up: a row whose every request times out ends after one timeout, not two.
            if time.monotonic() >= start_at:
                errors[type(error).__name__] += 1
                tried = True
            time.sleep(0.01)
            continue
        done = time.monotonic()
        if started >= start_at:  # the warm-up is not measured
            latencies.append(done - started)
            statuses[status] += 1
            received += size
            last_done = done
    pipe.send((latencies.tobytes(), statuses, errors, received, last_done))
    pipe.close()


def run(port: int, make_request, *, concurrency: int, seconds: float, warmup: float = 1.0,
        timeout: float = 120.0, on_tick=None) -> Result:
    """Load 127.0.0.1:`port` with requests from `make_request(client_index, sequence)`.

    `on_tick()` is called about four times a second while the load runs (the harness samples
    worker memory there), in this process, so nothing else runs threads beside the fork.
    """
    context = multiprocessing.get_context("fork")
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    pipes, processes = [], []
    for index in range(concurrency):
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_client, daemon=True, args=(
            index, port, make_request, start_at, stop_at, timeout, writer))
        process.start()
        writer.close()
        pipes.append(reader)
        processes.append(process)
    answers, waiting = [], list(pipes)
    deadline = stop_at + 2 * timeout + 10  # at worst a warm-up request, then one measured
    while waiting and time.monotonic() < deadline:
        for ready in wait(waiting, timeout=0.25):
            try:
                answers.append(ready.recv())
            except EOFError:
                pass  # a client died; its requests are lost, the others still count
            waiting.remove(ready)
        if on_tick and time.monotonic() >= start_at:
            on_tick()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    result = Result(seconds=0.0)
    last = start_at
    latencies = array("d")
    for raw, statuses, errors, received, last_done in answers:
        latencies.frombytes(raw)
        result.statuses.update(statuses)
        result.errors.update(errors)
        result.bytes_received += received
        last = max(last, last_done)
    if len(answers) < concurrency:
        result.errors["client lost"] += concurrency - len(answers)
    result.latencies = sorted(latencies)
    # A request started just before the end may finish after it: it counts, and so does
    # the time it took.
    result.seconds = max(stop_at, last) - start_at
    return result
