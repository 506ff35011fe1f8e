"""The benchmark harness (bench/, `make bench`), run end to end on a small database so it cannot
rot: seeded, served by gunicorn, every row loaded for a moment, the report written.

It asserts that every row was measured and answered as that route should (2xx, the kiosk's idle
poll 204) and that the report has every row; never how fast, which depends on the machine.
BENCH_TEST_ORDERS changes the number of orders (default 5,000: on SQLite the kiosk board's
count still scans cells per entry, so its time grows with the square of the orders; see
bench/README.md).
"""
import os
import re
import uuid

import pytest

from bench.rows import ROWS
from bench.run import run_bench
from tests.conftest import DATABASES, POSTGRES

ORDERS = int(os.environ.get("BENCH_TEST_ORDERS", "5000"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", DATABASES)
def test_every_row_is_measured_and_reported(kind, tmp_path):
    report = tmp_path / "latest.md"
    run = run_bench(orders=ORDERS, database_url=POSTGRES if kind == "postgresql" else None,
                    seconds=1.0, warmup=0.3, concurrency=2, cache_dir=tmp_path / "data",
                    out=report, keep_seed=False, prefix=f"bench_test_{uuid.uuid4().hex[:8]}")

    keys = ["hello", *[row.key for row in ROWS], "hello-again"]
    assert [m.key for m in run.rows] == keys
    for measured in run.rows:
        assert measured.failed is None, (measured.key, measured.failed)
        assert measured.result.requests > 0, measured.key
        assert not measured.result.errors, (measured.key, measured.result.errors)
        assert set(measured.result.statuses) <= set(measured.expect), \
            (measured.key, measured.result.statuses)
        assert all(200 <= s < 300 or s == 304 for s in measured.result.statuses)
        assert measured.rss_mb > 0, measured.key
    assert run.row("kiosk-idle").result.statuses.keys() == {204}
    made = [re.search(r"(\d+) orders created", note) for note in run.notes]
    assert any(m and int(m.group(1)) > 0 for m in made), run.notes

    text = report.read_text()
    for key in keys:
        assert f"| {key} |" in text, key
    assert f"{ORDERS:,} orders" in text and "Machine:" in text
    assert not list((tmp_path / "data").glob("run-*")), "the run's copy is removed"
    # Nothing else is left either: the seed goes (keep_seed=False), and so does what seeding
    # left beside it (the SQLite writers' queue file).
    assert not list((tmp_path / "data").iterdir())
