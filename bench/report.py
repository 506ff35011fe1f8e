"""The results table, the machine it ran on, and (with --profile) where the time went."""
import os
import platform
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path

from bench.server import GUNICORN_SETTINGS, SETTINGS
from bench.targets import MAIN

MEMORY_LIMIT_MB = 150


def machine(database: str) -> str:
    memory = "?"
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), {memory} memory, Python "
            f"{platform.python_version()}, {database}, gunicorn {metadata.version('gunicorn')}, "
            f"SQLAlchemy {metadata.version('sqlalchemy')}, {platform.system()} "
            f"{platform.release()}")


def _met(checks) -> str:
    if not checks:
        return ""
    if any(met is None for _, _, met in checks):
        return "?"
    return "yes" if all(met for _, _, met in checks) else "**no**"


def _statuses(measured, name: str) -> str:
    if measured.failed:
        return f"not measured: set-up failed ({measured.failed})"
    result, allowed = measured.results[name], measured.expect.get(name, (200,))
    parts = [f"{status}×{count}" if status in allowed else f"**{status}×{count}**"
             for status, count in sorted(result.statuses.items())]
    parts += [f"**{error}×{count}**" for error, count in result.errors.items()]
    return " ".join(parts) or "none"


def _times(result, status=None) -> tuple[str, str]:
    if not (result.by_status.get(status) if status else result.latencies):
        return "–", "–"
    return tuple(f"{result.percentile(p, status) * 1000:.1f}" for p in (50, 99))


def table(run) -> list[str]:
    """The results: a line per row, and a line under it for each load that ran beside it."""
    hello = run.hello_per_second
    lines = [("| Row | req/s | p50 ms | p99 ms | ratio | targets | met | worker RSS MB "
              "| answers | distinct requests |"),
             "|---|--:|--:|--:|--:|---|---|--:|---|--:|"]
    for m in run.rows:
        checks = m.checks(run)
        targets = "; ".join(f"{text}: {found}" for text, found, _ in checks)
        rss = f"{m.rss_mb:.0f}" + (" **over**" if m.rss_mb >= MEMORY_LIMIT_MB else "")
        main = m.main
        p50, p99 = _times(main, m.timed)
        timed = f" (p50, p99 of the {m.timed}s)" if m.timed else ""
        answers = _statuses(m, MAIN) if m.results or m.failed else "none"
        ratio = f"{main.per_second / hello:.3f}" if hello else "?"
        lines.append(f"| {m.key} | {main.per_second:.1f} | {p50} | {p99} | {ratio} "
                     f"| {targets} | {_met(checks)} | {rss} | {answers}{timed} "
                     f"| {main.distinct:,} of {main.requests:,} |")
        for name, result in m.results.items():
            if name == MAIN:
                continue
            p50, p99 = _times(result)
            lines.append(f"| ↳ {name} | {result.per_second:.1f} | {p50} | {p99} | | | | "
                         f"| {_statuses(m, name)} | {result.distinct:,} of "
                         f"{result.requests:,} |")
    return lines


def markdown(run) -> str:
    hello = run.hello_per_second
    loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"# Benchmark: {run.orders:,} orders on {run.database}",
        "",
        f"- Machine: {machine(run.database)}; load average {loads} at the end.",
        (f"- Server: `gunicorn {' '.join(GUNICORN_SETTINGS)}` ({SETTINGS['workers']} "
         f"{SETTINGS['worker_class']} workers, {SETTINGS['timeout']} s timeout) for the "
         "product (`wsgi:app`, ORDERS_ENV=development) and for the hello-world "
         "(`bench.hello:app`) alike."),
        (f"- Load: {run.concurrency} client processes on loopback for the rows' own "
         "throughput, one request in flight each, a new connection per request; "
         f"{run.seconds:g} s measured per row after a warm-up."),
        f"- Database: {run.setup}.",
        (f"- Hello-world: {hello:.0f} req/s (mean of the first and the last row); every "
         "ratio is a row's req/s divided by it."),
        (f"- Harness total: {run.finished - run.started:.0f} s; workers replaced by gunicorn: "
         f"{run.restarts}; server restarts after timed-out rows: {run.server_restarts}."),
    ]
    if run.profiled:
        lines.append("- **Profiled with py-spy: these numbers are slowed by the sampling and "
                     "not comparable with an unprofiled run.**")
    lines += ["", *table(run), "", "Rows:", ""]
    lines += [f"- `{m.key}`: {m.title}." for m in run.rows]
    peak = max((m.rss_mb for m in run.rows), default=0)
    lines += ["", f"Largest worker resident set: {peak:.0f} MB (limit {MEMORY_LIMIT_MB} MB)."]
    if run.notes:
        lines += [""] + [f"Note: {note}" for note in run.notes]
    return "\n".join(lines) + "\n"


# --- profiles ----------------------------------------------------------------------------------

# A sample goes to the layer of its innermost frame. The drivers' C code has no Python frame,
# so time inside sqlite3 or libpq shows as SQLAlchemy's execute and fetch calls.
DATABASE_CALLS = ("do_execute ", "do_executemany ", "do_commit ", "do_rollback ",
                  "do_begin ", "CursorFetchStrategy.fetch", "psycopg")
BUCKETS = [
    ("Jinja templates", ("jinja2", "markupsafe", "templates/", ".html")),
    ("JSON encoding", ("json/", "app/http/json.py")),
    ("SQLAlchemy (ORM objects, SQL compiling, rows)", ("sqlalchemy",)),
    ("pydantic", ("pydantic",)),
    ("the app's own code (services, serializers, views)", ("(app/",)),
    ("Flask, Werkzeug, Flask-Login, sessions", ("flask", "werkzeug", "itsdangerous")),
    ("gunicorn: socket writes and closes", ("gunicorn",)),
]


def _layer(frames: list[str]) -> str:
    if any(call in frames[-1] for call in DATABASE_CALLS):
        return "database: execute and fetch in the driver"
    for frame in reversed(frames):
        for name, needles in BUCKETS:
            if any(n in frame for n in needles):
                return name
    return "other (Python runtime, stdlib)"


def _stacks(path: Path) -> Counter:
    stacks = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def summarise_profile(path: Path, top: int = 12) -> str:
    """Where a row's worker time goes: a share per layer (by the innermost frame) and the
    app's own functions by inclusive time."""
    stacks = _stacks(path)
    total = sum(stacks.values())
    if not total:
        return "no samples"
    layers, inclusive = Counter(), Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        layers[_layer(frames)] += count
        for frame in {f for f in frames if "(app/" in f}:
            inclusive[frame] += count
    lines = [f"{total} samples", "", "By layer (innermost frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {label}" for label, n in layers.most_common()]
    lines += ["", "App functions, inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def write_profiles(run, out_dir: Path) -> None:
    parts = []
    for m in run.rows:
        if m.profile and Path(m.profile).exists():
            parts.append(f"## {m.key}\n\n```\n{summarise_profile(Path(m.profile))}\n```\n")
    target = out_dir / "profile.md"
    target.write_text("# Where the time goes (py-spy, per row)\n\n" + "\n".join(parts))
    print(f"profile summaries written to {target}", file=sys.stderr)
