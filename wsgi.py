"""Entry point: `flask --app wsgi …`, or `gunicorn wsgi:app`."""

from webapp import create_app

app = create_app()
