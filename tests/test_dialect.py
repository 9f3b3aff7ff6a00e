"""webapp/dialect.py: the planner's statistics are fresh after a bulk load, and the assembly's sums
are planned without nested loops within whole_scans only, on SQLite and PostgreSQL (this file runs in both passes of .ci/run: TEST_DATABASE=postgresql puts the app fixtures on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text

from conftest import in_app
from webapp.dialect import refresh_statistics, whole_scans


def analysed_tables(session) -> set[str]:
    """The tables the planner has statistics for."""
    if session.get_bind().dialect.name == "sqlite":
        if not session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            return set()
        return set(session.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1")).scalars())
    return set(session.execute(text("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= 0 "
                                    "AND relnamespace = 'public'::regnamespace")).scalars())


def nested_loops(session) -> str | None:
    """PostgreSQL's enable_nestloop now (None: SQLite, which has no such setting)."""
    if session.get_bind().dialect.name == "sqlite":
        return None
    return session.execute(text("SHOW enable_nestloop")).scalar()


def test_whole_scans_turns_nested_loops_off_within_the_block_only(app):
    with in_app() as session:
        before = nested_loops(session)
        with whole_scans(session):
            inside = nested_loops(session)
            assert session.execute(text("SELECT count(*) FROM cell_value")).scalar() > 0
        after = nested_loops(session)
    assert (before, inside, after) in ((None, None, None), ("on", "off", "on"))


def test_the_demo_load_leaves_statistics_of_the_cells(app):
    with in_app() as session:
        assert {"cell_value", "unit", "campaign_unit", "assignment"} <= analysed_tables(session)


def test_refresh_statistics_commits_and_analyses(empty_app):
    from webapp.models import Unit

    with in_app() as session:
        assert "unit" not in analysed_tables(session)
        session.add_all([Unit(code=f"u{i}", name=f"Đơn vị {i}", kind="xa") for i in range(50)])
        refresh_statistics(session)
        assert "unit" in analysed_tables(session)
    with in_app() as session:  # committed
        assert session.execute(text("SELECT count(*) FROM unit")).scalar() == 50


def test_copying_a_campaign_refreshes_the_statistics(app, monkeypatch):
    """A campaign made for many units (here by `campaign-copy`) is a bulk load: ANALYZE after it."""
    import datetime as dt

    import webapp.cli_campaigns as cli_campaigns

    calls = []
    real = cli_campaigns.refresh_statistics
    monkeypatch.setattr(cli_campaigns, "refresh_statistics", lambda session: (calls.append(1), real(session)))
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    result = app.test_cli_runner().invoke(args=["campaign-copy", "kl49-2024", "kl49-2025", "--years", "2024-2024",
                                                "--deadline", deadline])
    assert result.exit_code == 0, result.output
    assert calls == [1]
