"""Every asset is served by the app itself; htmx is the pinned, recorded file."""

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"


def test_htmx_is_the_pinned_release():
    recorded = (STATIC / "htmx.min.js.sha256").read_text().split()[0]
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == recorded
    assert b'version:"2.0.11"' in (STATIC / "htmx.min.js").read_bytes()


def test_pages_load_nothing_from_outside(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    for asset in ("/static/htmx.min.js", "/static/app.js", "/static/app.css"):
        assert client.get(asset).status_code == 200
