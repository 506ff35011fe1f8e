"""What a row must reach. Each target reads a row's measurements and says what it found and
whether that is enough; a row meets its targets when every one holds.

Throughput is a ratio to the bare hello-world of the same run, so a busy or slow machine moves
both sides alike; latencies are absolute, as a screen or a till feels them.
"""
from dataclasses import dataclass

MAIN = "main"


@dataclass(frozen=True)
class Ratio:
    """The row's requests per second (its main clients) divided by the hello-world's."""
    least: float

    def text(self) -> str:
        return f"ratio >= {self.least:g}"

    def check(self, run, measured) -> tuple[str, bool | None]:
        hello = run.hello_per_second
        if not hello or measured.failed:
            return "?", None
        ratio = measured.main.per_second / hello
        return f"{ratio:.3f}", ratio >= self.least


@dataclass(frozen=True)
class P99:
    """The 99th percentile latency of one group's requests (of those answered `status` only,
    when given), in milliseconds."""
    most_ms: float
    group: str = MAIN
    status: int | None = None
    label: str = ""

    def text(self) -> str:
        return f"{self.label or self.group} p99 <= {self.most_ms:g} ms"

    def check(self, run, measured) -> tuple[str, bool | None]:
        result = measured.results.get(self.group)
        samples = result and (result.by_status.get(self.status, []) if self.status
                              else result.latencies)
        if not samples:
            if result and result.errors:  # asked, and never answered in time
                return "no answer", False
            return "no samples", None
        p99 = result.percentile(99, self.status) * 1000
        return f"{p99:.1f} ms", p99 <= self.most_ms


@dataclass(frozen=True)
class NoFailure:
    """Every request of a group answered 2xx: nothing refused, timed out or lost."""
    group: str

    def text(self) -> str:
        return f"no failed {self.group}"

    def check(self, run, measured) -> tuple[str, bool | None]:
        result = measured.results.get(self.group)
        if result is None or not result.requests and not result.errors:
            return "none sent", None
        failed = sum(n for s, n in result.statuses.items() if not 200 <= s < 300)
        failed += sum(result.errors.values())
        return f"{failed} of {result.requests + sum(result.errors.values())} failed", \
            failed == 0


@dataclass(frozen=True)
class Memory:
    """The largest resident set of any worker while the row ran."""
    most_mb: float

    def text(self) -> str:
        return f"worker RSS < {self.most_mb:g} MB"

    def check(self, run, measured) -> tuple[str, bool | None]:
        if not measured.rss_mb:
            return "?", None
        return f"{measured.rss_mb:.0f} MB", measured.rss_mb < self.most_mb
