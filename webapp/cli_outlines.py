"""Flask commands of the admin contract (PRODUCT.md) for outlines; registered by webapp/cli.py.

    outline-check FILE   exit 0 and nothing printed, or exit 1 with each mistake on stderr
                         ("dòng 57: tables[3] (II.1.3) > … > type: kiểu 'cout' không được biết …")
    outline-load FILE    stores the version; prints CODE<TAB>VERSION (also when exactly that text is
                         stored already); other content under a stored code and version: exit 1
    outlines             one line per stored version: CODE<TAB>VERSION<TAB>TITLE
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from .domain.outline import Outline, OutlineError, read_outline_file
from .extensions import db


def _read(path: str) -> tuple[str, Outline]:
    """The file's text and outline; exit 1 with every mistake on stderr (a file that cannot be read too)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        click.echo(f"Không đọc được tệp {path}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    try:
        return read_outline_file(data, Path(path).name)
    except OutlineError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)


def register(app: Flask) -> None:
    @app.cli.command("outline-check")
    @click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
    def outline_check_command(path: str) -> None:
        """Validate an outline file: exit 0 silently, or exit 1 with each mistake (line and place) on stderr."""
        _read(path)

    @app.cli.command("outline-load")
    @click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
    def outline_load_command(path: str) -> None:
        """Store an outline version; print CODE<TAB>VERSION. Other content under a stored code and
        version is refused (exit 1)."""
        from .outline_store import OutlineConflict, store_outline

        text, outline = _read(path)
        try:
            row, created = store_outline(db.session, text, Path(path).name, via="cli")
        except OutlineConflict as conflict:
            db.session.rollback()
            click.echo(str(conflict), err=True)
            sys.exit(1)
        db.session.commit()
        if not created:
            click.echo(f"Đề cương {row.code} phiên bản {row.version} đã có với đúng nội dung này; "
                       "không lưu gì mới.", err=True)
        sys.stdout.write(f"{row.code}\t{row.version}\n")

    @app.cli.command("outlines")
    def outlines_command() -> None:
        """One line per stored outline version: CODE<TAB>VERSION<TAB>TITLE."""
        from .outline_store import stored_outlines

        for row in stored_outlines(db.session):
            sys.stdout.write(f"{row.code}\t{row.version}\t{row.title}\n")
