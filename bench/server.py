"""Gunicorn, under one set of settings for the product and the hello-world alike, and the
resident memory of its workers read from /proc."""
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_name("gunicorn_conf.py")
SETTINGS = runpy.run_path(str(CONFIG))
WORKERS, REQUEST_TIMEOUT = SETTINGS["workers"], SETTINGS["timeout"]
GUNICORN_SETTINGS = ["--config", str(CONFIG.relative_to(ROOT))]


_handed_out: set[int] = set()


def free_port() -> int:
    """A free loopback port: from BENCH_PORT upwards when set (on a machine whose ports are
    shared out by ranges), else any the system gives."""
    first = int(os.environ.get("BENCH_PORT") or 0)
    for port in range(first, first + 100) if first else [0]:
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = sock.getsockname()[1]
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port from BENCH_PORT={first} to {first + 99}")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        pass
    found = []  # kernels without the children file: scan every process's parent
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Gunicorn:
    """One gunicorn master on a loopback port; `start()` returns once every worker answers."""

    def __init__(self, name: str, app: str, env: dict, log_dir: Path):
        self.name, self.app, self.env = name, app, env
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.process = None
        self.port = None
        self.workers_seen: set[int] = set()
        self.server_restarts = 0

    def start(self, timeout: float = 60) -> "Gunicorn":
        self.port = self.port or free_port()
        with open(self.log_path, "w") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *GUNICORN_SETTINGS,
                 "--bind", f"127.0.0.1:{self.port}", self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.name}) exited: {self.log_tail()}")
            if len(self.worker_pids()) == WORKERS and self._answers():
                self.workers_seen |= set(self.worker_pids())
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn ({self.name}) did not start: {self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process else []

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each live worker, in MiB; remembers every worker seen."""
        found = {}
        for pid in self.worker_pids():
            self.workers_seen.add(pid)
            size = rss_mb(pid)
            if size is not None:
                found[pid] = size
        return found

    @property
    def restarts(self) -> int:
        """Workers that replaced another (killed by the timeout, or crashed)."""
        return max(0, len(self.workers_seen) - WORKERS * (1 + self.server_restarts))

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def restart(self) -> None:
        """Stop at once (workers still busy with abandoned requests included) and start again
        on the same port."""
        self.stop(quick=True)
        self.server_restarts += 1
        self.start()

    def stop(self, quick: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.worker_pids()
        # TERM lets workers finish their request; QUIT stops them at once, but a worker deep
        # in one long database call only notices when it returns, and would keep the port.
        self.process.send_signal(signal.SIGQUIT if quick else signal.SIGTERM)
        if quick:
            self._kill(workers)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._kill(workers)  # none is left behind holding the port

    @staticmethod
    def _kill(pids: list[int]) -> None:
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"gunicorn" not in f.read():
                        continue  # gone, and the number taken by another process since
                os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
