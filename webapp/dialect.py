"""THE one place for SQL that only SQLite or only PostgreSQL speaks (the migrations excepted: each
revision says its own DDL). Everything else is portable SQLAlchemy, run on both by the test suite
(TEST_DATABASE=postgresql runs it again on PostgreSQL, see tests/conftest.py).

- ``sqlite_pragmas``: every new SQLite connection enforces foreign keys, runs in WAL mode with FULL
  sync and waits for the write lock instead of failing at once.
- ``insert_for``: the dialect's INSERT, which has ``on_conflict_do_update`` (an upsert) on both.
- ``whole_scans``: PostgreSQL plans the next statements without nested loops (the assembly's sums over
  every stored value of a campaign, which it would otherwise join one assignment at a time).
- ``refresh_statistics``: ANALYZE after a bulk load (the demo, a units import, a campaign made for many
  units, a template of many values imported), so that the planner, which the assembly's queries
  depend on, knows the tables' new sizes: PostgreSQL's autovacuum would get there, later; SQLite never
  analyses by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# SQLite's ANALYZE reads at most about this many rows of each index (PRAGMA analysis_limit): enough
# for the planner, and an ANALYZE of a large database stays quick.
SQLITE_ANALYSIS_LIMIT = 1000
# an import that changed at least this many values is a bulk load (statistics refreshed after it)
BULK_VALUES = 500


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys; WAL so readers never block the one writer; FULL sync so that a
    commit answered as stored survives a crash or power cut."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def dialect_name(session: Session, model=None) -> str:
    return session.get_bind(model).dialect.name


def insert_for(session: Session, model):
    """``insert(model)`` of the session's dialect (PostgreSQL's or SQLite's: both have
    ``on_conflict_do_update`` and ``returning``)."""
    if dialect_name(session, model) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


@contextmanager
def whole_scans(session: Session) -> Iterator[None]:
    """Within the block, PostgreSQL joins by hashing or merging, never by a nested loop (SET LOCAL:
    this transaction only, put back at the end of the block). For the statements that read every
    stored value of a campaign joined to its assignments: PostgreSQL estimates one value per
    (unit, table, group) instead of dozens, chooses a nested loop of 100,000 index probes, and takes
    twice or thrice as long as by reading both indexes through. SQLite: nothing to say."""
    postgres = dialect_name(session) == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_nestloop = off"))
    yield  # an error rolls the transaction back, and the setting with it
    if postgres:
        session.execute(text("SET LOCAL enable_nestloop = on"))


def refresh_statistics(session: Session) -> None:
    """Commit what the session holds, then bring the planner's statistics up to date (ANALYZE of the
    whole database) and commit that. Called after the bulk loads listed above; cheap on a small
    database, bounded on a large one (PostgreSQL samples each table, SQLite reads at most
    SQLITE_ANALYSIS_LIMIT rows of each index)."""
    session.commit()
    name = dialect_name(session)
    if name == "sqlite":
        session.execute(text(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}"))
        session.execute(text("ANALYZE"))
    elif name == "postgresql":
        session.execute(text("ANALYZE"))
    else:  # pragma: no cover - the app runs on SQLite or PostgreSQL only
        log.warning("no statistics refresh for the %s dialect", name)
    session.commit()
