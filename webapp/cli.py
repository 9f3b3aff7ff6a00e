"""Flask commands of the admin contract (PRODUCT.md): stdout carries only the output, logs go to stderr."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import Campaign


def find_campaign(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise click.ClickException(f"Không có đợt báo cáo '{code}'.")
    return campaign


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo district, units, accounts and the campaign kl49-2024 (idempotent)."""
        from .demo import CAMPAIGN_CODE, load_demo
        from .templating import local_today

        if load_demo(db.session, local_today()):
            click.echo(f"Đã nạp dữ liệu trình diễn: huyện Lộc Ninh và đợt báo cáo {CAMPAIGN_CODE}.", err=True)
        else:
            click.echo("Dữ liệu trình diễn đã có; không thay đổi gì.", err=True)

    @app.cli.command("units")
    @click.argument("campaign_code")
    def units_command(campaign_code: str) -> None:
        """Print the campaign's reporting units, one per line: CODE<TAB>NAME."""
        campaign = find_campaign(campaign_code)
        for unit in campaign.units:
            sys.stdout.write(f"{unit.code}\t{unit.name}\n")
