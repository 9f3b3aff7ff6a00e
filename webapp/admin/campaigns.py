"""Administration views; registered on the admin blueprint (webapp/admin/routes.py)."""

from __future__ import annotations

from .routes import bp  # noqa: F401
