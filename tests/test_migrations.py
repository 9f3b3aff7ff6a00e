"""The Alembic migrations with data in the database, on SQLite and PostgreSQL.

Every test walks the revisions listed by Alembic's ScriptDirectory, so a migration added later is
covered without touching this file:

- down one revision at a time to the first one and back up to head keeps the demo's rows (units,
  accounts, cell values, the audit trail…), and the audit triggers refuse changes again at head;
- down to base (no tables) and back up to head gives the same schema again, triggers included;
- `flask --app wsgi db downgrade` and `db upgrade` from the command line succeed with the demo loaded;
- a run that fails (at its last step, or in a new revision after some DDL, or by leaving a broken
  reference) leaves the database exactly as it was: version stamp, tables and columns, triggers, rows,
  and no `_alembic_tmp_*` table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect, text

from conftest import _make_app, database_copy, demo_app_on_both, sqlite_file

demo_app = demo_app_on_both  # an app at head with the demo: SQLite, then PostgreSQL

PROJECT = Path(__file__).resolve().parent.parent
MIGRATIONS = PROJECT / "migrations"

# The tables of the first revision: a downgrade to any later revision keeps their rows.
CORE_TABLES = ("unit", "campaign", "user", "assignment", "audit_event", "campaign_unit",
               "cell_value", "list_row")
REFUSAL = "audit events are never changed or removed"


def revisions(directory: Path = MIGRATIONS):
    """The revision scripts, base first; the history must be one line (one head)."""
    scripts = ScriptDirectory(str(directory))
    assert len(scripts.get_heads()) == 1, "the migration history has more than one head"
    return list(scripts.walk_revisions("base", "heads"))[::-1]


def test_the_history_is_one_line():
    scripts = revisions()
    assert scripts[0].down_revision is None
    for earlier, later in zip(scripts, scripts[1:]):
        assert later.down_revision == earlier.revision


# --- databases with the demo loaded -----------------------------------------------------------------

# --- what a database looks like -----------------------------------------------------------------------

def is_sqlite(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def stamp(app) -> str | None:
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def triggers(app) -> list[str]:
    from webapp.extensions import db

    query = ("SELECT name FROM sqlite_master WHERE type = 'trigger'" if is_sqlite(app) else
             "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    with app.app_context(), db.engine.connect() as conn:
        return sorted(conn.execute(text(query)).scalars())


def snapshot(app) -> dict:
    """The version stamp, every table with its columns, indexes and row count, and the triggers."""
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        inspector = inspect(conn)
        tables = {}
        for name in sorted(inspector.get_table_names()):
            tables[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                "indexes": sorted(i["name"] for i in inspector.get_indexes(name)),
                "rows": conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar(),
            }
    return {"version": stamp(app), "tables": tables, "triggers": triggers(app)}


def core_data(app) -> dict:
    """The row counts of the first revision's tables (but the audit trail), the cell values
    themselves, and the audit events."""
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        counts = {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
                  for name in CORE_TABLES if name != "audit_event"}
        cells = conn.execute(text(
            "SELECT id, unit_id, table_code, row_key, col_key, num, text, version FROM cell_value "
            "ORDER BY id")).all()
        audit = conn.execute(text("SELECT id, action, old, new FROM audit_event ORDER BY id")).all()
    return {"counts": counts, "cells": cells, "audit": audit}


def assert_kept(before: dict, after: dict) -> None:
    """Every row is still there; a downgrade may add audit events (of what a dropped table held)."""
    assert after["counts"] == before["counts"]
    assert after["cells"] == before["cells"]
    assert after["audit"][:len(before["audit"])] == before["audit"]


def assert_clean(app) -> None:
    """No table left over from a batch operation, and (SQLite) no broken reference."""
    snap = snapshot(app)
    assert [t for t in snap["tables"] if t.startswith("_alembic_tmp")] == []
    if is_sqlite(app):
        from webapp.extensions import db

        with app.app_context(), db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def audit_changes_refused(app) -> bool:
    """True if the database refuses both an UPDATE and a DELETE of an audit event (tried on a row
    inserted for the purpose, in a transaction rolled back)."""
    from webapp.extensions import db

    refused = []
    for verb in ("UPDATE audit_event SET action = 'forged' WHERE action = 'migration-test'",
                 "DELETE FROM audit_event WHERE action = 'migration-test'"):
        with app.app_context(), db.engine.connect() as conn:
            conn.execute(text("INSERT INTO audit_event (action, via) VALUES ('migration-test', 'test')"))
            try:
                conn.execute(text(verb))
            except sa_exc.DBAPIError as error:
                refused.append(REFUSAL in str(error))
            else:
                refused.append(False)
            conn.rollback()
    return all(refused)


def migrate(app, command: str, revision: str, directory: Path = MIGRATIONS) -> None:
    import flask_migrate

    with app.app_context():
        getattr(flask_migrate, command)(directory=str(directory), revision=revision)


# --- walking the history with the demo loaded ---------------------------------------------------------

def test_down_to_the_first_revision_and_back_keeps_the_demo(demo_app):
    scripts = revisions()
    head = scripts[-1].revision
    assert stamp(demo_app) == head and audit_changes_refused(demo_app)
    before = core_data(demo_app)
    assert before["counts"]["cell_value"] > 500 and before["audit"]

    for script in reversed(scripts[1:]):  # one step down at a time, to the first revision
        migrate(demo_app, "downgrade", script.down_revision)
        assert stamp(demo_app) == script.down_revision
        assert_kept(before, core_data(demo_app))
        assert_clean(demo_app)
    for script in scripts[1:]:  # and one step up at a time, to head
        migrate(demo_app, "upgrade", script.revision)
        assert stamp(demo_app) == script.revision
        assert_kept(before, core_data(demo_app))
        assert_clean(demo_app)
    assert audit_changes_refused(demo_app)


def test_down_to_base_and_back_gives_the_same_schema(demo_app):
    scripts = revisions()
    at_head = snapshot(demo_app)

    for script in reversed(scripts):
        migrate(demo_app, "downgrade", script.down_revision or "base")
        assert stamp(demo_app) == script.down_revision
        assert_clean(demo_app)
    assert list(snapshot(demo_app)["tables"]) == ["alembic_version"]
    assert triggers(demo_app) == []

    for script in scripts:
        migrate(demo_app, "upgrade", script.revision)
        assert stamp(demo_app) == script.revision
        assert_clean(demo_app)
    back = snapshot(demo_app)
    assert back["triggers"] == at_head["triggers"]
    assert {t: s["columns"] for t, s in back["tables"].items()} == \
           {t: s["columns"] for t, s in at_head["tables"].items()}
    assert {t: s["indexes"] for t, s in back["tables"].items()} == \
           {t: s["indexes"] for t, s in at_head["tables"].items()}
    assert audit_changes_refused(demo_app)


def test_downgrade_and_upgrade_from_the_command_line_with_the_demo(demo_db, tmp_path):
    """What the issue did by hand: `flask --app wsgi db downgrade` after `db upgrade && demo`."""
    scripts = revisions()
    with database_copy(demo_db, tmp_path, "cli") as url:  # SQLite, or PostgreSQL in its pass of .ci/run
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test"}
        flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]

        down = subprocess.run(flask + ["downgrade"], cwd=PROJECT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert down.returncode == 0, down.stderr[-3000:]
        app = _make_app(url)
        assert stamp(app) == scripts[-1].down_revision
        assert_clean(app)

        up = subprocess.run(flask + ["upgrade"], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=120)
        assert up.returncode == 0, up.stderr[-3000:]
        assert stamp(app) == scripts[-1].revision
        assert_clean(app)
        assert audit_changes_refused(app)
        with app.app_context():
            from webapp.extensions import db

            db.engine.dispose()


# --- a failed run changes nothing ----------------------------------------------------------------------

def copy_of_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def make_fail(directory: Path, revision: str, function: str) -> None:
    """Make ``function`` (upgrade or downgrade) of a revision in a copied directory fail after doing
    all its work."""
    script = ScriptDirectory(str(directory)).get_revision(revision)
    with open(script.path, "a", encoding="utf-8") as file:
        file.write(f"\n\n_real_{function} = {function}\n\n\n"
                   f"def {function}():\n"
                   f"    _real_{function}()\n"
                   f"    raise ValueError('this migration fails on purpose')\n")


def add_revision(directory: Path, body: str) -> None:
    """A new revision on top of head in a copied directory; ``body`` is its upgrade()."""
    head = revisions(directory)[-1].revision
    (directory / "versions" / "ffff00000000_test_only.py").write_text(
        '"""a revision for a test only"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = 'ffff00000000'\ndown_revision = '{head}'\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n", encoding="utf-8")


def assert_unchanged(app, before: dict) -> None:
    after = snapshot(app)
    assert after["version"] == before["version"]
    assert [t for t in after["tables"] if t.startswith("_alembic_tmp")] == []
    assert after["triggers"] == before["triggers"]
    assert after == before
    assert_clean(app)


@pytest.mark.parametrize("direction", ["downgrade", "upgrade"])
def test_a_failed_run_leaves_the_database_as_it_was(demo_app, tmp_path, direction):
    """The whole run is one transaction: when its last step fails, every step before it is undone
    too (down: head to base failing in the first revision's downgrade, after all tables are dropped;
    up: the first revision to head failing at the end of head's upgrade)."""
    scripts = revisions()
    directory = copy_of_migrations(tmp_path)
    if direction == "downgrade":
        make_fail(directory, scripts[0].revision, "downgrade")
        target = "base"
        assert audit_changes_refused(demo_app)
    else:
        for script in reversed(scripts[1:]):
            migrate(demo_app, "downgrade", script.down_revision)
        make_fail(directory, scripts[-1].revision, "upgrade")
        target = "head"
    before = snapshot(demo_app)

    with pytest.raises(ValueError, match="fails on purpose"):
        migrate(demo_app, direction, target, directory)

    assert_unchanged(demo_app, before)
    if direction == "downgrade":
        assert audit_changes_refused(demo_app)
    else:  # and the real migrations still go up from there
        migrate(demo_app, "upgrade", "head")
        assert stamp(demo_app) == scripts[-1].revision
        assert audit_changes_refused(demo_app)


def test_a_new_revision_failing_after_some_ddl_changes_nothing(demo_app, tmp_path):
    directory = copy_of_migrations(tmp_path)
    add_revision(directory, "\n".join([
        "    with op.batch_alter_table('user') as batch_op:  # SQLite: _alembic_tmp_user, DROP user",
        "        batch_op.add_column(sa.Column('scratch', sa.Integer(), nullable=True))",
        "    with op.batch_alter_table('audit_event', recreate='always') as batch_op:",
        "        batch_op.add_column(sa.Column('scratch', sa.Integer(), nullable=True))",
        "    op.create_table('scratch', sa.Column('id', sa.Integer(), primary_key=True))",
        "    raise ValueError('this migration fails on purpose')",
    ]))
    before = snapshot(demo_app)

    with pytest.raises(ValueError, match="fails on purpose"):
        migrate(demo_app, "upgrade", "head", directory)

    assert_unchanged(demo_app, before)
    assert audit_changes_refused(demo_app)


def test_a_migration_leaving_a_broken_reference_is_undone(demo_app, tmp_path):
    """Foreign keys are not enforced while a migration runs on SQLite (the table rebuilds of batch
    mode need that), so the run checks them all before it commits; PostgreSQL refuses at once."""
    directory = copy_of_migrations(tmp_path)
    add_revision(directory, "    op.execute(\"DELETE FROM unit WHERE code = 'ln-16'\")")
    before = snapshot(demo_app)

    # SQLite: the check before the commit fails (Flask-Migrate logs it and exits 1);
    # PostgreSQL: the DELETE itself
    with pytest.raises(SystemExit if is_sqlite(demo_app) else sa_exc.IntegrityError):
        migrate(demo_app, "upgrade", "head", directory)

    assert_unchanged(demo_app, before)
    assert audit_changes_refused(demo_app)


@sqlite_file
def test_the_connection_goes_back_to_the_app_as_it_was(demo_db, tmp_path):
    """The migration turns foreign keys and pysqlite's transaction handling off on its connection
    only: the app gets it back (here its only connection) with both as the app set them up, after a
    run that succeeds and after one that fails."""
    from sqlalchemy.pool import StaticPool

    from webapp.extensions import db

    path = tmp_path / "one-connection.sqlite"
    shutil.copy(demo_db, path)
    app = _make_app(path, SQLALCHEMY_ENGINE_OPTIONS={"poolclass": StaticPool})
    directory = copy_of_migrations(tmp_path)
    make_fail(directory, revisions()[-1].revision, "downgrade")

    def as_the_app_set_it_up():
        with app.app_context(), db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.connection.driver_connection.isolation_level == ""
            assert not conn.connection.driver_connection.in_transaction

    migrate(app, "downgrade", "-1")
    as_the_app_set_it_up()
    migrate(app, "upgrade", "head")
    as_the_app_set_it_up()
    with pytest.raises(ValueError, match="fails on purpose"):
        migrate(app, "downgrade", "-1", directory)
    as_the_app_set_it_up()
    assert audit_changes_refused(app)
    with app.app_context():
        db.engine.dispose()


# --- what the migrations hold --------------------------------------------------------------------------

def test_the_migrated_schema_is_the_models(demo_app):
    """Alembic finds nothing to add: the migrations make exactly the tables, columns, indexes and
    constraints the models declare (a column added to a model without a migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webapp.extensions import db

    with demo_app.app_context(), db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diffs == []


def group_keys(app) -> tuple[set, set]:
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        kl49 = "campaign_id = (SELECT id FROM campaign WHERE code = 'kl49-2024')"  # the other demos are new
        assigned = set(conn.execute(text(f"SELECT DISTINCT table_code, group_key FROM assignment WHERE {kl49}")).all())
        stored = set(conn.execute(text(f"SELECT DISTINCT table_code, group_key FROM cell_value WHERE {kl49}")).all())
    return assigned, stored


def test_kl49_column_groups_take_the_keys_of_the_file_and_back(demo_app):
    """Before outlines were stored, kl49's column groups were named by position (b0g1: block 0, group
    1). The migration to stored outlines renames them in assignments and values to the file's keys;
    its downgrade names them by position again."""
    from webapp.domain.outline import shipped_outline

    outline = shipped_outline("kl49")
    # the demo has no province unit: nobody is assigned II.1.5's group of provincial civil servants
    by_file = {(t.code, key) for t in outline.tables if not t.is_list for key, _ in t.groups} - {("II.1.5", "tinh")}
    by_position = {(t.code, f"b{bi}g{gi}") for t in outline.tables for bi, b in enumerate(t.blocks)
                   for gi, _ in enumerate(b.groups)} - {("II.1.5", "b0g2")}
    assigned, stored = group_keys(demo_app)
    assert {k for k in assigned if k[1] != "rows"} == by_file and stored <= by_file | {("I", "rows")}
    with demo_app.app_context():
        from webapp.extensions import db
        from webapp.models import Campaign

        campaign = db.session.query(Campaign).filter_by(code="kl49-2024").one()
        assert campaign.outline.table("II.1.3").groups[1][0] == "d35"
        # Tam Đường's request, once printed by kl49.yaml, is no longer put on Lộc Ninh's appendix
        assert campaign.subtitle == "" and campaign.outline.subtitle == ""
        db.session.remove()
        # the migration renames the groups of campaigns on kl49@1; the demo's is on kl49@2, whose
        # tables are version 1's: put it on version 1 for the way down and back
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE campaign SET outline_version = 1 WHERE code = 'kl49-2024'"))

    migrate(demo_app, "downgrade", "186566cef95f")
    assigned, stored = group_keys(demo_app)
    assert {k for k in assigned if k[1] != "rows"} == by_position and stored <= by_position | {("I", "rows")}
    migrate(demo_app, "upgrade", "head")
    assigned, _ = group_keys(demo_app)
    assert {k for k in assigned if k[1] != "rows"} == by_file


def test_db_upgrade_stores_the_shipped_outlines_once(demo_app):
    from webapp.extensions import db

    def outlines():
        with demo_app.app_context(), db.engine.connect() as conn:
            return conn.execute(text("SELECT code, version, filename FROM outline ORDER BY id")).all()

    from webapp.domain.outline import load_outline, shipped_outline_files

    # every shipped file, in the files' order
    shipped = [(o.code, o.version, path.name) for path in shipped_outline_files() for o in [load_outline(path)]]
    assert {("kl49", 1, "kl49-v1.yaml"), ("kl49", 2, "kl49.yaml")} <= set(shipped) and outlines() == shipped
    migrate(demo_app, "upgrade", "head")  # nothing to migrate: the stored versions are kept, not doubled
    assert outlines() == shipped
