"""Static files with versioned URLs cached for a year, and compressed responses.

- Every ``url_for('static', filename=F)`` gets ``?v=<hash>``: the first 10 hex digits of the SHA-256 of
  F's content, computed for every file of the static folder when the app starts and again only when
  a file's size or modification time changes (a file added later gets its hash on first use). A
  request carrying the file's current hash is answered ``Cache-Control: public, max-age=31536000,
  immutable``: the browser never asks again, and a changed file has a new URL. Any other request
  for a static file (no hash, or an old one) keeps Flask's ``no-cache``: revalidated each time with
  its ETag.
- Flask-Compress compresses every response whose client accepts it: brotli (browsers offer it over
  HTTPS) or gzip, for HTML, CSS, JavaScript, JSON, CSV, SVG and plain text of 500 bytes or more,
  streamed responses (static files) included. Workbooks are not in the list: an .xlsx is a zip
  already. Error responses are left as they are (Flask-Compress compresses only 2xx).
"""

from __future__ import annotations

import hashlib
import os
import stat

from flask import Flask, request
from flask_compress import Compress
from werkzeug.security import safe_join

VERSION_ARG = "v"
LONG_CACHE = "public, max-age=31536000, immutable"

COMPRESS_CONFIG = {
    "COMPRESS_MIMETYPES": [
        "text/html", "text/css", "text/plain", "text/csv",
        "text/javascript", "application/javascript", "application/json", "image/svg+xml",
    ],
    # brotli first where the client takes both (browsers offer br over HTTPS only); no deflate, whose
    # meaning browsers and servers have disagreed on; zstd adds nothing at these sizes
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    # brotli 5: smaller than gzip 6 and as fast (Flask-Compress's 4 came out larger than gzip on
    # htmx.min.js and app.css)
    "COMPRESS_BR_LEVEL": 5,
}


class StaticVersions:
    """The content hash of each file of one folder, kept with the file's size and mtime."""

    def __init__(self, folder: str):
        self.folder = folder
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def warm(self) -> None:
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                self(os.path.relpath(os.path.join(root, name), self.folder).replace(os.sep, "/"))

    def __call__(self, filename: str) -> str | None:
        """The file's version, or None for a name outside the folder or no regular file."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        key = (info.st_mtime_ns, info.st_size)
        known = self._known.get(filename)
        if known and known[0] == key:
            return known[1]
        with open(path, "rb") as f:
            version = hashlib.sha256(f.read()).hexdigest()[:10]
        self._known[filename] = (key, version)
        return version


def register_assets(app: Flask) -> None:
    for name, value in COMPRESS_CONFIG.items():
        app.config.setdefault(name, value)
    Compress(app)

    if not app.static_folder:
        return
    versions = StaticVersions(app.static_folder)
    versions.warm()
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and VERSION_ARG not in values and "filename" in values:
            version = versions(values["filename"])
            if version:
                values[VERSION_ARG] = version

    @app.after_request
    def cache_versioned_static_files(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            wanted = request.args.get(VERSION_ARG)
            if wanted and wanted == versions((request.view_args or {}).get("filename", "")):
                response.headers["Cache-Control"] = LONG_CACHE
        return response
