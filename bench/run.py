"""`make bench`: seed (or reuse) a database of N orders, serve the product and a bare WSGI
hello-world under the same gunicorn settings, load every row of bench/rows.py on loopback, and
print each row's requests per second, p50 and p99 as a ratio to the hello-world of the same run.

    python -m bench.run [--orders N] [--seconds S] [--concurrency C] [--profile]

Environment: BENCH_ORDERS (default 1000000), BENCH_SECONDS (10), BENCH_CONCURRENCY (4),
DATABASE_URL (a PostgreSQL server; unset means SQLite). The table goes to stdout and to
bench/results/latest.md (git-ignored); the seeded databases are kept in bench/results/data.
"""
import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import load, report
from bench.database import bench_database
from bench.rows import ROWS, Stage
from bench.server import REQUEST_TIMEOUT, ROOT, Gunicorn

RESULTS = ROOT / "bench" / "results"


@dataclass
class Measured:
    key: str
    title: str
    path: str
    result: load.Result
    expect: tuple
    target: object = None
    rss_mb: float = 0.0
    profile: str | None = None
    failed: str | None = None  # why the row could not be set up

    @property
    def answered_as_expected(self) -> bool:
        return (not self.failed and self.result.requests > 0 and not self.result.errors
                and set(self.result.statuses) <= set(self.expect))


@dataclass
class Run:
    orders: int
    database: str
    seconds: float
    concurrency: int
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    setup: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float = 0.0
    restarts: int = 0
    server_restarts: int = 0
    profiled: bool = False

    def row(self, key: str) -> Measured | None:
        return next((m for m in self.rows if m.key == key), None)

    @property
    def hello_per_second(self) -> float:
        hellos = [m.result.per_second for m in self.rows if m.key.startswith("hello")]
        return sum(hellos) / len(hellos) if hellos else 0.0


def _measure(server: Gunicorn, key, title, path, make, expect, target, args,
             profile_dir: Path | None) -> Measured:
    peak = {"rss": 0.0}

    def sample():
        sizes = server.worker_rss_mb()
        if sizes:
            peak["rss"] = max(peak["rss"], max(sizes.values()))

    spy = None
    if profile_dir is not None:
        profile = profile_dir / f"profile-{key}.txt"
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
             str(server.process.pid), "--subprocesses", "--format", "raw", "--rate", "200",
             "--duration", str(max(1, round(args.seconds + args.warmup))), "--output",
             str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sample()
    result = load.run(server.port, make, concurrency=args.concurrency, seconds=args.seconds,
                      warmup=args.warmup, timeout=REQUEST_TIMEOUT, on_tick=sample)
    sample()
    measured = Measured(key, title, path, result, expect, target, peak["rss"])
    if spy is not None:
        spy.wait(timeout=60)
        measured.profile = str(profile)
    ok = "ok" if measured.answered_as_expected else "UNEXPECTED"
    print(f"  {key:<24} {result.per_second:9.1f} req/s  p50 {result.percentile(50) * 1000:8.1f}"
          f" ms  p99 {result.percentile(99) * 1000:8.1f} ms  rss {peak['rss']:5.0f} MB  "
          f"{dict(result.statuses)} {dict(result.errors) if result.errors else ''} {ok}",
          flush=True)
    return measured


HELLO = load.http_request("GET", "/")


def _hello_request(index, seq):
    return HELLO


def run_bench(*, orders: int, database_url: str | None, seconds: float, concurrency: int,
              warmup: float = 1.0, cache_dir: Path = RESULTS / "data",
              out: Path | None = RESULTS / "latest.md", keep_seed: bool = True,
              prefix: str = "bench", profile: bool = False,
              only: list[str] | None = None) -> Run:
    args = argparse.Namespace(seconds=seconds, concurrency=concurrency, warmup=warmup)
    cache_dir.mkdir(parents=True, exist_ok=True)
    log_dir = out.parent if out else cache_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    database = bench_database(orders, database_url, cache_dir, keep_seed, prefix)
    run = Run(orders=orders, database=database.kind, seconds=seconds, concurrency=concurrency,
              profiled=profile)
    print(f"bench: {orders} orders on {database.kind}, {concurrency} clients, {seconds:g} s "
          "per row", flush=True)
    url, run.setup = database.prepare()
    run.database = database.server_version()
    print(f"  database ready ({run.setup})", flush=True)
    env = {**os.environ, "DATABASE_URL": url, "ORDERS_ENV": "development"}
    hello = Gunicorn("hello", "bench.hello:app", env, log_dir)
    product = Gunicorn("product", "wsgi:app", env, log_dir)
    profile_dir = log_dir if profile else None
    try:
        hello.start()
        product.start()
        stage = Stage(product.port, concurrency)
        run.rows.append(_measure(hello, "hello", "Bare WSGI hello-world", "/", _hello_request,
                                 (200,), None, args, None))
        for row in ROWS:
            if only and row.key not in only:
                continue
            try:
                make = row.prepare(stage)
            except Exception as error:  # noqa: BLE001 - reported in the row, the run goes on
                print(f"  {row.key:<24} could not be set up: {error}", flush=True)
                run.rows.append(Measured(row.key, row.title, stage.paths.get(row.key, ""),
                                         load.Result(seconds=0.0), row.expect, row.target,
                                         failed=str(error).splitlines()[0][:200]))
                continue
            measured = _measure(product, row.key, row.title, stage.paths.get(row.key, ""),
                                make, row.expect, row.target, args, profile_dir)
            run.rows.append(measured)
            if measured.result.errors:
                # Requests given up on may still be running: start afresh for the next row.
                run.notes.append(f"{row.key}: {dict(measured.result.errors)}; the server was "
                                 "restarted before the next row.")
                product.restart()
            if row.after:
                stage.notes.append(row.after(stage, measured.result))
        run.rows.append(_measure(hello, "hello-again", "Bare WSGI hello-world, again at the end",
                                 "/", _hello_request, (200,), None, args, None))
        run.notes += stage.notes
        run.restarts = product.restarts + hello.restarts
        run.server_restarts = product.server_restarts
    finally:
        product.stop()
        hello.stop()
        database.cleanup()
    run.finished = time.monotonic()
    text = report.markdown(run)
    print()
    print(text)
    if out:
        out.write_text(text)
        print(f"written to {out}")
    if profile:
        report.write_profiles(run, log_dir)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int,
                        default=int(os.environ.get("BENCH_ORDERS", "1000000")))
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--concurrency", type=int,
                        default=int(os.environ.get("BENCH_CONCURRENCY", "4")))
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md")
    parser.add_argument("--cache-dir", type=Path, default=RESULTS / "data",
                        help="where seeded SQLite files are kept")
    parser.add_argument("--only", nargs="*", help="measure only these rows (keys)")
    parser.add_argument("--profile", action="store_true",
                        help="record each row with py-spy (pip install py-spy); the numbers "
                             "of a profiled run are slowed by it and not comparable")
    args = parser.parse_args(argv)
    run = run_bench(orders=args.orders, database_url=args.database_url, seconds=args.seconds,
                    concurrency=args.concurrency, warmup=args.warmup, out=args.out,
                    cache_dir=args.cache_dir,
                    profile=args.profile, only=args.only)
    return 0 if all(m.answered_as_expected for m in run.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
