"""Flask commands of the admin contract (PRODUCT.md) that make campaigns: campaign-create and
campaign-copy, and campaign-feed (nested levels). stdout carries only the new campaign's code; a refusal prints every problem on
stderr, one per line, stores nothing and exits 1. Registered by webapp/cli.py."""

from __future__ import annotations

import datetime as dt
import re
import sys

import click
from flask import Flask
from sqlalchemy import select

from . import outline_store
from .campaigns import CampaignRefused, CampaignSpec, check_spec, copy_campaign, create_campaign
from .dialect import refresh_statistics
from .extensions import db
from .models import Campaign, OutlineVersion, Unit
from .workflow import campaign_today

YEARS = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")
OUTLINE = re.compile(r"^([^@\s]+)(?:@(\d+))?$")


def parse_years(text: str, problems: list[str]) -> tuple[int | None, int | None]:
    """FROM-TO as two years; a problem (and None, None) otherwise."""
    match = YEARS.match(text or "")
    if not match:
        problems.append(f"--years '{text}': cần dạng NĂM_ĐẦU-NĂM_CUỐI, ví dụ 2019-2023.")
        return None, None
    return int(match.group(1)), int(match.group(2))


def parse_deadline(text: str, problems: list[str], option: str = "--deadline") -> dt.date | None:
    """YYYY-MM-DD as a date; a problem (and None) otherwise."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"{option} '{text}': không phải một ngày có thật dạng YYYY-MM-DD, ví dụ 2024-05-15.")
        return None


def parse_kind_deadlines(items: tuple[str, ...], problems: list[str]) -> dict[str, dt.date]:
    """Each ``--deadline-for KIND=YYYY-MM-DD`` as kind → date; a problem for one that is not."""
    out: dict[str, dt.date] = {}
    for item in items:
        kind, sep, text = item.partition("=")
        kind = kind.strip()
        if not sep or not kind:
            problems.append(f"--deadline-for '{item}': cần dạng LOẠI=YYYY-MM-DD, ví dụ xa=2020-08-31.")
            continue
        if kind in out:
            problems.append(f"--deadline-for: loại đơn vị '{kind}' được nêu hai lần.")
            continue
        day = parse_deadline(text.strip(), problems, option=f"--deadline-for {kind}")
        if day is not None:
            out[kind] = day
    return out


def find_outline(text: str, problems: list[str]) -> OutlineVersion | None:
    """OUTLINE or OUTLINE@VERSION among the stored versions (the newest without a version)."""
    match = OUTLINE.match(text or "")
    if not match:
        problems.append(f"--outline '{text}': cần dạng MÃ hoặc MÃ@PHIÊN_BẢN, ví dụ kl49@1.")
        return None
    code, version = match.group(1), match.group(2)
    row = outline_store.find(db.session, code, int(version) if version else None)
    if row is None:
        stored = [r.version for r in outline_store.stored_outlines(db.session) if r.code == code]
        if not stored:
            problems.append(f"Không có đề cương '{code}' (xem `flask outlines`).")
        else:
            problems.append(f"Đề cương {code} không có phiên bản {version} (đã nạp: "
                            f"{', '.join(str(v) for v in stored)}).")
    return row


def find_unit(code: str, problems: list[str], what: str = "Đơn vị") -> Unit | None:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        problems.append(f"{what} '{code}' không có trong danh sách đơn vị.")
    return unit


def refuse(problems: list[str]) -> None:
    """Every problem on stderr, nothing stored, exit 1."""
    db.session.rollback()
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    @app.cli.command("campaign-create")
    @click.argument("code")
    @click.option("--outline", "outline_text", required=True, help="OUTLINE[@VERSION] (newest version if none)")
    @click.option("--name", required=True, help="the campaign's name")
    @click.option("--years", required=True, help="FROM-TO, e.g. 2019-2023")
    @click.option("--deadline", required=True, help="YYYY-MM-DD (the end of that day)")
    @click.option("--deadline-for", "deadlines_for", multiple=True, metavar="KIND=YYYY-MM-DD",
                  help="a kind of unit's own deadline (repeatable; other kinds have --deadline)")
    @click.option("--compiler", "compiler_code", required=True, help="the compiling unit's code")
    @click.option("--units", "unit_codes", default=None,
                  help="U1,U2,… (default: every unit below the compiler's parent of a kind the outline names)")
    def campaign_create(code: str, outline_text: str, name: str, years: str, deadline: str,
                        deadlines_for: tuple[str, ...], compiler_code: str, unit_codes: str | None) -> None:
        """Create a campaign, open at once; prints CODE."""
        problems: list[str] = []
        outline_row = find_outline(outline_text, problems)
        year_from, year_to = parse_years(years, problems)
        day = parse_deadline(deadline, problems)
        kind_deadlines = parse_kind_deadlines(deadlines_for, problems)
        compiler = find_unit(compiler_code, problems, "Đơn vị tổng hợp")
        units = None
        if unit_codes is not None:
            codes = [c.strip() for c in unit_codes.split(",") if c.strip()]
            units = [u for u in (find_unit(c, problems) for c in dict.fromkeys(codes)) if u is not None]
            if not codes:
                problems.append("--units không nêu đơn vị nào.")
        spec = CampaignSpec(code=code, name=name, year_from=year_from, year_to=year_to, deadline=day,
                            compiler_unit=compiler, units=units, kind_deadlines=kind_deadlines)
        if problems:  # what the arguments say, then what the campaign itself lacks
            refuse(problems + [m for f, m in check_spec(db.session, spec, campaign_today())
                               if not (f == "compiler" and compiler is None)
                               and not (f == "units" and unit_codes is not None and not units)])
        try:
            campaign = create_campaign(db.session, outline_row, spec, via="cli", today=campaign_today())
        except CampaignRefused as refused:
            refuse(refused.problems)
        refresh_statistics(db.session)  # commits: a campaign's parts and assignments for every unit
        sys.stdout.write(f"{campaign.code}\n")
        click.echo(f"Đã tạo đợt báo cáo {campaign.code}: {len(campaign.units)} đơn vị báo cáo, đề cương "
                   f"{campaign.outline_code}@{campaign.outline_version}, hạn gửi {campaign.deadline:%d/%m/%Y}.",
                   err=True)

    @app.cli.command("campaign-copy")
    @click.argument("source_code")
    @click.argument("code")
    @click.option("--years", required=True, help="FROM-TO, e.g. 2024-2024")
    @click.option("--deadline", required=True, help="YYYY-MM-DD (the end of that day)")
    def campaign_copy(source_code: str, code: str, years: str, deadline: str) -> None:
        """The next period's campaign with FROM's outline version, units and assignments; prints TO."""
        problems: list[str] = []
        source = db.session.scalar(select(Campaign).where(Campaign.code == source_code))
        if source is None:
            problems.append(f"Không có đợt báo cáo '{source_code}'.")
        year_from, year_to = parse_years(years, problems)
        day = parse_deadline(deadline, problems)
        if problems:
            spec = CampaignSpec(code=code, name=source.name if source else "-", year_from=year_from,
                                year_to=year_to, deadline=day, compiler_unit=source.compiler_unit if source else None)
            refuse(problems + [m for f, m in check_spec(db.session, spec, campaign_today()) if f != "compiler"])
        try:
            campaign = copy_campaign(db.session, source, code, year_from, year_to, day, via="cli",
                                     today=campaign_today())
        except CampaignRefused as refused:
            refuse(refused.problems)
        refresh_statistics(db.session)  # commits: a campaign's parts and assignments for every unit
        sys.stdout.write(f"{campaign.code}\n")
        click.echo(f"Đã tạo đợt báo cáo {campaign.code} ({campaign.name}) từ {source.code}: "
                   f"{len(campaign.units)} đơn vị báo cáo.", err=True)

    @app.cli.command("campaign-feed")
    @click.argument("code")
    @click.argument("unit_code")
    @click.argument("source_code")
    def campaign_feed(code: str, unit_code: str, source_code: str) -> None:
        """UNIT's part of CAMPAIGN becomes SOURCE's assembled appendix (nesting.py: a district's own
        campaign feeding the district's part of the province campaign); prints nothing."""
        from .nesting import NestRefused, link

        problems: list[str] = []
        found = {c.code: c for c in db.session.scalars(select(Campaign).where(Campaign.code.in_([code, source_code])))}
        for wanted in (code, source_code):
            if wanted not in found:
                problems.append(f"Không có đợt báo cáo '{wanted}'.")
        unit = find_unit(unit_code, problems)
        if problems:
            refuse(problems)
        try:
            link(db.session, found[code], unit, found[source_code], via="cli")
        except NestRefused as refused:
            refuse([str(refused)])
        db.session.commit()
        click.echo(f"Phần của {unit.name} trong đợt {code} là phụ lục tổng hợp của đợt {source_code}.", err=True)
