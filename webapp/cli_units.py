"""Flask commands of the admin contract (PRODUCT.md); registered by webapp/cli.py."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass
