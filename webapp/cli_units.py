"""Flask command of the admin contract (PRODUCT.md) that loads units and accounts: import-units.

stdout carries only one ``USERNAME<TAB>PASSWORD`` line per account created; a refusal prints every
problem on stderr as ``Row N: message``, stores nothing and exits 1. Registered by webapp/cli.py.
"""

from __future__ import annotations

import os
import sys

import click
from flask import Flask

from .directory import ListRefused, Problem, import_list
from .dialect import refresh_statistics
from .extensions import db


def register(app: Flask) -> None:
    @app.cli.command("import-units")
    @click.argument("path", metavar="FILE")
    def import_units_command(path: str) -> None:
        """Load units and accounts from an .xlsx or .csv list, all or nothing: one USERNAME<TAB>PASSWORD
        line per account created, or every problem on stderr as Row N: message (exit 1)."""
        try:
            if not os.path.isfile(path):
                raise ListRefused([Problem(1, f"Không có tệp {path}")])
            outcome = import_list(db.session, path, os.path.basename(path), actor=None, via="cli")
            refresh_statistics(db.session)  # commits
        except ListRefused as refused:
            db.session.rollback()
            for line in refused.lines("Row"):
                click.echo(line, err=True)
            sys.exit(1)
        for user, password in outcome.accounts_created:
            sys.stdout.write(f"{user.username}\t{password}\n")
        sys.stdout.flush()
        if outcome.changed:
            click.echo(f"Đã nạp danh sách {path}: {len(outcome.units_created)} đơn vị mới, "
                       f"{len(outcome.units_updated)} đơn vị cập nhật, {len(outcome.accounts_created)} tài khoản mới, "
                       f"{len(outcome.accounts_updated)} tài khoản cập nhật.", err=True)
        else:
            click.echo(f"Danh sách {path} không có gì mới; không thay đổi gì.", err=True)
