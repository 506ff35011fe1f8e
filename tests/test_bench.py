"""The benchmark harness (bench/, `make bench`), run end to end on a small database so it cannot
rot: seeded, served by gunicorn, every row loaded for a moment, the report written.

It asserts that every row was measured, that every load of it answered as that route should
(the lists 200, the repeated list 200 or 304, the idle kiosk poll 204, the screens' redraws
200, every ticket update 200) and that the report has every row; never how fast, which depends
on the machine. BENCH_TEST_ORDERS changes the number of orders (default 300).
"""
import os
import re
import uuid

import pytest

from bench.rows import ROWS, UPDATES
from bench.run import run_bench
from bench.targets import MAIN
from tests.conftest import DATABASES, POSTGRES

ORDERS = int(os.environ.get("BENCH_TEST_ORDERS", "300"))

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
        assert measured.rss_mb > 0, measured.key
        for name, result in measured.results.items():
            assert result.requests > 0, (measured.key, name)
            assert not result.errors, (measured.key, name, result.errors)
            assert set(result.statuses) <= set(measured.expect[name]), \
                (measured.key, name, result.statuses)
        assert measured.answered_as_expected, measured.key
        assert all(target.check(run, measured)[1] is not None for target in measured.targets), \
            (measured.key, measured.checks(run))

    statuses = {m.key: m.main.statuses for m in run.rows}
    assert statuses["kiosk-idle"].keys() == {204}
    assert statuses["kiosk-redraw"][200] > 0  # boards drawn again after the updates
    assert statuses["list-304"].keys() <= {200, 304}
    for key in ("lists-updating", "kiosk-redraw"):
        updates = run.row(key).results[UPDATES]
        assert updates.statuses.keys() == {200}, (key, updates.statuses)
    # The cold rows ask a different query nearly every time, the 304 row one query only.
    cold = run.row("lists-cold").main
    assert cold.distinct >= 0.9 * cold.requests
    assert run.row("list-304").results[MAIN].distinct == 1
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
