"""The benchmark's database: seeded once per number of orders and kept, copied fresh per run.

Seeding a million orders takes minutes, so the seeded database is kept, keyed by N and by the
version of app/seed.py (a hash of it): a file `sqlite-N-HASH.db` in the cache folder, or a
database `bench_orders_N_HASH` on the PostgreSQL server of DATABASE_URL (the tests use a prefix
of their own and drop it). A seed of an older app/seed.py with the same N is removed when the
new one is made. A seed that did not finish never takes that name (it is written under a
`partial` name and renamed at the end). Every run works on a copy, so the orders a run
creates never pile up in the next one, and migrations added since are applied to the kept
seed before it is copied. A seed that is not kept (the tests') is used as it is: on a busy
PostgreSQL server every copy and drop waits seconds for a checkpoint.

On PostgreSQL only databases named here are created or dropped; the database DATABASE_URL
names is used only to connect to the server.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.server import ROOT


def seed_version() -> str:
    """Changes whenever the demo data would: a seed made by another app/seed.py is not reused."""
    return hashlib.sha256((ROOT / "app" / "seed.py").read_bytes()).hexdigest()[:8]


def flask(args: list[str], url: str, echo=print) -> None:
    """Run a `flask --app wsgi` command against `url`, echoing its output as it comes."""
    env = {**os.environ, "DATABASE_URL": url, "ORDERS_ENV": "development"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = []
    for line in process.stdout:
        output.append(line.rstrip())
        if not line.startswith("INFO  [alembic"):
            echo("    " + line.rstrip())
    if process.wait() != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n" + "\n".join(output[-20:]))


def seed(url: str, orders: int, echo=print) -> None:
    flask(["db", "upgrade"], url, echo)
    flask(["seed-demo", "--orders", str(orders)], url, echo)


class SQLiteDatabase:
    def __init__(self, orders: int, cache_dir: Path, keep_seed: bool = True):
        self.orders, self.keep_seed = orders, keep_seed
        self.seed_path = cache_dir / f"sqlite-{orders}-{seed_version()}.db"
        self.run_path = cache_dir / f"run-{os.getpid()}.db"
        self.kind = "sqlite"

    @staticmethod
    def _url(path: Path) -> str:
        return f"sqlite:///{path}"

    @staticmethod
    def _remove(path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal", "-writers"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def prepare(self, echo=print) -> tuple[str, str]:
        """Seed when needed, then copy; (url of the copy, what was done)."""
        self.seed_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        reused = self.seed_path.exists()
        if reused:
            done = f"reused {self.seed_path.name}"
        else:
            partial = self.seed_path.with_name(self.seed_path.name + ".partial")
            self._remove(partial)
            echo(f"  seeding {self.orders} orders into {self.seed_path} (minutes at a million)")
            seed(self._url(partial), self.orders, echo)
            for stale in self.seed_path.parent.glob(f"sqlite-{self.orders}-*.db"):
                self._remove(stale)  # made by an older app/seed.py
            partial.rename(self.seed_path)
            Path(f"{partial}-writers").unlink(missing_ok=True)  # the seeding's writers' queue
            done = f"seeded {self.orders} orders in {time.monotonic() - started:.0f} s"
        if reused:  # a fresh seed has every migration already
            flask(["db", "upgrade"], self._url(self.seed_path), echo)
        if not self.keep_seed:
            self.run_path = self.seed_path
            return self._url(self.run_path), done + ", used as it is (not kept)"
        self._remove(self.run_path)
        copied = time.monotonic()
        for suffix in ("", "-wal"):  # a clean close leaves no -wal; copy it if one is there
            if Path(str(self.seed_path) + suffix).exists():
                shutil.copyfile(str(self.seed_path) + suffix, str(self.run_path) + suffix)
        done += f", copied in {time.monotonic() - copied:.1f} s"
        return self._url(self.run_path), done

    def server_version(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"

    def cleanup(self) -> None:
        self._remove(self.run_path)
        if not self.keep_seed:
            self._remove(self.seed_path)


class PostgresDatabase:
    def __init__(self, orders: int, url: str, keep_seed: bool = True, prefix: str = "bench"):
        self.orders, self.keep_seed = orders, keep_seed
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.seed_name = f"{prefix}_orders_{orders}_{seed_version()}"
        # LIKE reads `_` as any one character: escape it, so N=1000000 never matches 10000000.
        self.stale_pattern = f"{prefix}_orders_{orders}_".replace("_", "\\_") + "%"
        self.run_name = f"{prefix}_run_{os.getpid()}"
        self.kind = "postgresql"

    def _url(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def _admin(self):
        server = self.url.set(drivername="postgresql", database=self.url.database or "postgres")
        return psycopg.connect(server.render_as_string(hide_password=False), autocommit=True)

    def _exists(self, conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None

    def prepare(self, echo=print) -> tuple[str, str]:
        started = time.monotonic()
        partial = self.seed_name + "_partial"
        with self._admin() as conn:
            seeded = self._exists(conn, self.seed_name)
            if not seeded:
                conn.execute(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{partial}"')
        if seeded:
            done = f"reused database {self.seed_name}"
        else:
            echo(f"  seeding {self.orders} orders into database {self.seed_name}")
            seed(self._url(partial), self.orders, echo)
            with self._admin() as conn:
                stale = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s "
                                     "AND datname <> %s", (self.stale_pattern, partial)).fetchall()
                for (name,) in stale:  # made by an older app/seed.py
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'ALTER DATABASE "{partial}" RENAME TO "{self.seed_name}"')
            done = f"seeded {self.orders} orders in {time.monotonic() - started:.0f} s"
        if seeded:  # a fresh seed has every migration already
            flask(["db", "upgrade"], self._url(self.seed_name), echo)
        if not self.keep_seed:
            self.run_name = self.seed_name
            return self._url(self.run_name), done + ", used as it is (not kept)"
        copied = time.monotonic()
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.run_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.run_name}" TEMPLATE "{self.seed_name}"')
        done += f", copied in {time.monotonic() - copied:.1f} s"
        # A fresh copy has no planner statistics until autovacuum gets to it.
        with psycopg.connect(self._url(self.run_name).replace("+psycopg", ""),
                             autocommit=True) as conn:
            conn.execute("ANALYZE")
        return self._url(self.run_name), done

    def server_version(self) -> str:
        with self._admin() as conn:
            return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]

    def cleanup(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.run_name}" WITH (FORCE)')
            if not self.keep_seed and self.seed_name != self.run_name:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.seed_name}" WITH (FORCE)')


def bench_database(orders: int, database_url: str | None, cache_dir: Path,
                   keep_seed: bool = True, prefix: str = "bench"):
    if database_url and database_url.startswith(("postgres://", "postgresql")):
        return PostgresDatabase(orders, database_url, keep_seed, prefix)
    if database_url:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server; leave it unset for "
                         "SQLite (the file is kept in the cache folder).")
    return SQLiteDatabase(orders, cache_dir, keep_seed)
