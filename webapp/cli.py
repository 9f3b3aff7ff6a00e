"""Flask commands of the admin contract (PRODUCT.md): stdout carries only the output, logs go to stderr."""

from __future__ import annotations

import sys

import click
from flask import Flask
from xlsxwriter.exceptions import FileCreateError
from sqlalchemy import select

from .domain.parts import Counted
from .extensions import db
from .models import Campaign, Unit
from .workflow import in_campaign


def find_campaign(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise click.ClickException(f"Không có đợt báo cáo '{code}'.")
    return campaign


def find_unit(campaign: Campaign, code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not in_campaign(db.session, campaign, unit):
        raise click.ClickException(f"Đơn vị '{code}' không thuộc đợt báo cáo '{campaign.code}'.")
    return unit


def write_file(path: str, write) -> None:
    """Run ``write(path)``; a path that cannot be written is a clear message, not a traceback."""
    try:
        write(path)
    except (OSError, FileCreateError) as exc:
        raise click.ClickException(f"Không ghi được tệp {path}: {exc}") from None


def register_cli(app: Flask) -> None:
    from . import cli_campaigns, cli_checks, cli_outlines, cli_units

    for module in (cli_units, cli_outlines, cli_campaigns, cli_checks):
        module.register(app)

    @app.cli.command("demo")
    def demo_command() -> None:
        """Load what is missing of the demo: the district, its units and accounts, the campaign kl49-2024
        and one campaign per other form of the seeds (idempotent)."""
        from .demo import load_demo
        from .templating import local_today

        if load_demo(db.session, local_today()):
            click.echo("Đã nạp dữ liệu trình diễn: huyện Lộc Ninh và các đợt báo cáo mẫu.", err=True)
        else:
            click.echo("Dữ liệu trình diễn đã có; không thay đổi gì.", err=True)

    @app.cli.command("units")
    @click.argument("campaign_code")
    def units_command(campaign_code: str) -> None:
        """Print the campaign's reporting units, one per line: CODE<TAB>NAME."""
        campaign = find_campaign(campaign_code)
        for unit in campaign.units:
            sys.stdout.write(f"{unit.code}\t{unit.name}\n")

    @app.cli.command("template")
    @click.argument("campaign_code")
    @click.argument("unit_code")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.xlsx")
    def template_command(campaign_code: str, unit_code: str, output: str) -> None:
        """Write UNIT's Excel template holding its current values."""
        from .exchange import write_unit_template

        campaign = find_campaign(campaign_code)
        unit = find_unit(campaign, unit_code)
        write_file(output, lambda path: write_unit_template(db.session, campaign, unit, path))
        click.echo(f"Đã ghi mẫu của {unit_code} vào {output}.", err=True)

    @app.cli.command("import-xlsx")
    @click.argument("campaign_code")
    @click.argument("unit_code")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_command(campaign_code: str, unit_code: str, path: str) -> None:
        """Import a filled template, all or nothing; exit 1 with every error as Sheet!Cell: message."""
        from .exchange import ImportRefused, import_unit_template

        campaign = find_campaign(campaign_code)
        unit = find_unit(campaign, unit_code)
        try:
            changed = import_unit_template(db.session, campaign, unit, None, path, via="cli")
        except ImportRefused as refused:
            for line in refused.errors:
                click.echo(line, err=True)
            sys.exit(1)
        click.echo(f"Đã nhập tệp của {unit_code}: {changed} giá trị thay đổi.", err=True)

    @app.cli.command("export")
    @click.argument("campaign_code")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.xlsx")
    @click.option("--parts", type=click.Choice([c.value for c in Counted]), default=Counted.ALL.value,
                  show_default=True, help="Whose parts to count: every part as it stands, the submitted and "
                                          "accepted ones, or the accepted ones only.")
    @click.option("--cover/--no-cover", default=True, show_default=True,
                  help="Begin with the cover sheet (the units' status, for internal use).")
    def export_command(campaign_code: str, output: str, parts: str, cover: bool) -> None:
        """Write the assembled appendix workbook."""
        from .exchange import write_campaign_appendix
        from .templating import local_now

        campaign = find_campaign(campaign_code)
        write_file(output, lambda path: write_campaign_appendix(db.session, campaign, path, local_now(),
                                                                Counted(parts), with_cover=cover))
        click.echo(f"Đã xuất phụ lục tổng hợp vào {output}.", err=True)

    @app.cli.command("backup")
    @click.argument("path")
    @click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
    def backup_command(path: str, force: bool) -> None:
        """Write a consistent copy of the database to FILE while the app runs (SQLite file or pg_dump)."""
        from .backup import BackupError, backup

        try:
            result = backup(db.engine.url, path, force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        version = f", phiên bản lược đồ {result.alembic_version}" if result.alembic_version else ""
        click.echo(f"Đã sao lưu {result.source} vào {result.path} ({result.size:,} byte{version}).", err=True)
