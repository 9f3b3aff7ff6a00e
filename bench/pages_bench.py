"""Page benchmark: the compiler's appendix, dashboard and breakdown pages at several campaign sizes.

    .venv/bin/python bench/pages_bench.py [--db sqlite|postgres] [--units 250,2500,10000] [--repeat 3]

For each size, a fresh database (an SQLite file in a temporary folder, or a scratch PostgreSQL
database on 127.0.0.1:5432, user postgres, dropped at the end; TEST_POSTGRES_URL names the server)
gets the schema by the migrations and the export benchmark's campaign (export_bench.build_campaign:
every owned cell filled, notes, 1-3 documents per unit), then ANALYZE; a signed-in compiler GETs each
page ``--repeat`` times. Prints one line per page and size: best time, and the size of the HTML.
Targets: every page under 1 s and 500 KB at any size (exit 1 otherwise). Run by hand, not by CI.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export_bench  # noqa: E402  (the campaign builder, and the path to the app)

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402

PAGES = {"appendix": "/appendix", "dashboard": "/dashboard", "breakdown": "/breakdown/II.1.5?row=2021",
         "breakdown sorted": "/breakdown/II.1.5?row=2021&sort=xa_tyle&order=desc&page=3"}
TIME_LIMIT, SIZE_LIMIT = 1.0, 500 * 1024
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Database:
    """A fresh database for one size: its SQLAlchemy URL; ``drop`` removes it."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == "postgres":
            import psycopg

            self.admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
            self.name = f"pagesbench_{uuid.uuid4().hex[:10]}"
            self.admin.execute(f'CREATE DATABASE "{self.name}"')
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            self.url = f"{base}/{self.name}"
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="pages-bench-")
            self.url = f"sqlite:///{Path(self.tmp.name) / 'bench.sqlite'}"

    def drop(self) -> None:
        if self.kind == "postgres":
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.admin.close()
        else:
            self.tmp.cleanup()


def app_on(url: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                       "SECRET_KEY": "bench"})


def measure(kind: str, n_units: int, repeat: int) -> list[tuple[str, float, int]]:
    database = Database(kind)
    try:
        app = app_on(database.url)
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            export_bench.build_campaign(db.session, n_units, random.Random(49))
            db.session.execute(text("ANALYZE"))  # fresh statistics after the bulk load (both databases)
            db.session.commit()
            print(f"  built {n_units:,} units in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        client = app.test_client()
        login = client.post("/login", data={"username": export_bench.COMPILER_LOGIN,
                                            "password": export_bench.COMPILER_PASSWORD})
        if login.status_code != 302:
            raise RuntimeError(f"compiler login: HTTP {login.status_code}")
        out = []
        for name, path in PAGES.items():
            url = f"/campaigns/{export_bench.CAMPAIGN_CODE}{path}"
            times, size = [], 0
            for _ in range(repeat + 1):  # the first is a warm-up
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
                size = len(response.data)
            out.append((name, min(times[1:]), size))
        with app.app_context():
            db.engine.dispose()
        return out
    finally:
        database.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--units", default="250,2500,10000", help="comma-separated sizes (default 250,2500,10000)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.units.split(",")]
    ok = True
    print(f"pages benchmark ({args.db}), best of {args.repeat}; limits {TIME_LIMIT:.1f} s and {SIZE_LIMIT // 1024} KB")
    for n in sizes:
        for name, seconds, size in measure(args.db, n, args.repeat):
            good = seconds < TIME_LIMIT and size < SIZE_LIMIT
            ok &= good
            print(f"units {n:>6,}  {name:<17} {seconds:.3f} s  {size / 1024:7.1f} KB  {'ok' if good else 'OVER'}",
                  flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
