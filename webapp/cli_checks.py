"""Flask command that lists what the checks find in a campaign's stored values: checks.

stdout carries one ``UNIT<TAB>Sheet!Cell<TAB>message`` line per error or warning (the unit's code),
the list of the data-quality page in its order; exit 0, also when the list is empty. An unknown
campaign is a message on stderr and exit 1. Registered by webapp/cli.py.
"""

from __future__ import annotations

import sys

import click
from flask import Flask

from .extensions import db
from .quality import quality_lines


def register(app: Flask) -> None:
    @app.cli.command("checks")
    @click.argument("campaign_code")
    def checks_command(campaign_code: str) -> None:
        """Print every error and warning of CAMPAIGN's stored values: UNIT<TAB>Sheet!Cell<TAB>message."""
        from .cli import find_campaign

        campaign = find_campaign(campaign_code)
        for line in quality_lines(db.session, campaign):
            sys.stdout.write(f"{line.unit.code}\t{line.place}\t{line.message}\n")
        sys.stdout.flush()
