"""`make bench`: seed (or reuse) a database of N orders, serve the product and a bare WSGI
hello-world under the same gunicorn settings, load every row of bench/rows.py on loopback, and
print each row's requests per second, p50 and p99, its ratio to the hello-world of the same run
and whether it meets its targets.

    python -m bench.run [--orders N] [--seconds S] [--concurrency C] [--only ROW...] [--profile]

Environment: BENCH_ORDERS (default 1000000), BENCH_SECONDS (10), BENCH_CONCURRENCY (4),
DATABASE_URL (a PostgreSQL server; unset means SQLite), BENCH_PORT (the first loopback port to
serve on; unset: any free one). The table goes to stdout and to bench/results/latest.md
(git-ignored); the seeded databases are kept in bench/results/data.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import load, report
from bench.database import bench_database
from bench.rows import ROWS, Row, Stage
from bench.server import REQUEST_TIMEOUT, ROOT, Gunicorn
from bench.targets import MAIN

RESULTS = ROOT / "bench" / "results"


@dataclass
class Measured:
    key: str
    title: str
    results: dict  # group name -> load.Result; "main" is what the row measures
    expect: dict  # group name -> the statuses it may answer
    needs: tuple = ()  # statuses the main clients must have seen
    targets: tuple = ()
    timed: int | None = None  # the status the row's p50 and p99 are of
    rss_mb: float = 0.0
    profile: str | None = None
    failed: str | None = None  # why the row could not be set up

    @property
    def main(self) -> load.Result:
        return self.results.get(MAIN) or load.Result(seconds=0.0)

    @property
    def answered_as_expected(self) -> bool:
        if self.failed or not self.results:
            return False
        for name, result in self.results.items():
            if not result.requests or result.errors:
                return False
            if not set(result.statuses) <= set(self.expect.get(name, (200,))):
                return False
        return all(status in self.main.statuses for status in self.needs)

    def checks(self, run) -> list[tuple[str, str, bool | None]]:
        """(target, what was measured, met) for each target; met is None when unknown."""
        return [(target.text(), *target.check(run, self)) for target in self.targets]


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
        hellos = [m.main.per_second for m in self.rows if m.key.startswith("hello")]
        return sum(hellos) / len(hellos) if hellos else 0.0


def _py_spy() -> str:
    """py-spy beside this Python, else on the PATH (it need not live in the project's venv)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy") or str(beside)


def _measure(server: Gunicorn, row, groups, args, profile_dir: Path | None) -> Measured:
    peak = {"rss": 0.0}

    def sample():
        sizes = server.worker_rss_mb()
        if sizes:
            peak["rss"] = max(peak["rss"], max(sizes.values()))

    spy = None
    if profile_dir is not None:
        profile = profile_dir / f"profile-{row.key}.txt"
        spy = subprocess.Popen(
            [_py_spy(), "record", "--pid",
             str(server.process.pid), "--subprocesses", "--format", "raw", "--rate", "200",
             "--duration", str(max(1, round(args.seconds + args.warmup))), "--output",
             str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sample()
    results = load.run(server.port, groups, seconds=args.seconds, warmup=args.warmup,
                       timeout=REQUEST_TIMEOUT, on_tick=sample)
    sample()
    measured = Measured(row.key, row.title, results, row.expect, row.needs, row.targets,
                        row.timed, peak["rss"])
    if spy is not None:
        spy.wait(timeout=60)
        measured.profile = str(profile)
    ok = "ok" if measured.answered_as_expected else "UNEXPECTED"
    for name, result in results.items():
        label = row.key if name == MAIN else f"  + {name}"
        timed = row.timed if name == MAIN else None
        print(f"  {label:<24} {result.per_second:9.1f} req/s  p50 "
              f"{result.percentile(50, timed) * 1000:8.1f} ms  p99 "
              f"{result.percentile(99, timed) * 1000:8.1f} ms  {dict(result.statuses)} "
              f"{dict(result.errors) if result.errors else ''}", flush=True)
    print(f"  {'':<24} worker rss {peak['rss']:.0f} MB, answers {ok}", flush=True)
    return measured


HELLO = load.http_request("GET", "/")
HELLO_ROW = Row("hello", "the bare WSGI hello-world (bench/hello.py)", None)
HELLO_AGAIN = Row("hello-again", "the hello-world again at the end", None)


def _hello(concurrency: int) -> list[load.Group]:
    return [load.Group(MAIN, lambda index, seq: HELLO, concurrency)]


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
        run.rows.append(_measure(hello, HELLO_ROW, _hello(concurrency), args, None))
        for row in ROWS:
            if only and row.key not in only:
                continue
            try:
                began = time.monotonic()
                groups = row.prepare(stage)
                print(f"  {row.key:<24} set up in {time.monotonic() - began:.1f} s", flush=True)
            except Exception as error:  # noqa: BLE001 - reported in the row, the run goes on
                print(f"  {row.key:<24} could not be set up: {error}", flush=True)
                run.rows.append(Measured(row.key, row.title, {}, row.expect, row.needs,
                                         row.targets, row.timed,
                                         failed=str(error).splitlines()[0][:200]))
                continue
            measured = _measure(product, row, groups, args, profile_dir)
            run.rows.append(measured)
            # The hello-world of the start stands in for the mean until the end.
            print(f"  {'':<24} " + "; ".join(f"{text}: {found}" for text, found, _
                                            in measured.checks(run)), flush=True)
            errors = {name: dict(r.errors) for name, r in measured.results.items() if r.errors}
            if errors:
                # Requests given up on may still be running: start afresh for the next row.
                run.notes.append(f"{row.key}: {errors}; the server was restarted before the "
                                 "next row.")
                product.restart()
            if row.after:
                stage.notes.append(row.after(stage, measured.results))
        run.rows.append(_measure(hello, HELLO_AGAIN, _hello(concurrency), args,
                                 None))
        run.notes += stage.notes
        run.restarts = product.restarts + hello.restarts
        run.server_restarts = product.server_restarts
    finally:
        # At once: nothing is left to finish, and a graceful stop waits seconds for the
        # product's workers to wind down their background threads.
        product.stop(quick=True)
        hello.stop(quick=True)
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
                        help="record each row with py-spy (beside this Python or on the "
                             "PATH); the numbers of a profiled run are slowed by it and not "
                             "comparable")
    args = parser.parse_args(argv)
    run = run_bench(orders=args.orders, database_url=args.database_url, seconds=args.seconds,
                    concurrency=args.concurrency, warmup=args.warmup, out=args.out,
                    cache_dir=args.cache_dir,
                    profile=args.profile, only=args.only)
    return 0 if all(m.answered_as_expected for m in run.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
