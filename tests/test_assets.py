"""Assets: served by the app itself (htmx is the pinned, recorded file), under versioned URLs cached
for a year, every response compressed; and the page weight of the clerk's table page in a real
browser, cold (empty cache) and warm (second visit)."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest

from conftest import CURRENT, login, signed_in

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"
TABLE = "/campaigns/kl49-2024/tables/II.1.3"
YEAR = "public, max-age=31536000, immutable"
GZIP = {"Accept-Encoding": "gzip, deflate"}  # what Chromium offers over plain HTTP


def test_htmx_is_the_pinned_release():
    recorded = (STATIC / "htmx.min.js.sha256").read_text().split()[0]
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == recorded
    assert b'version:"2.0.11"' in (STATIC / "htmx.min.js").read_bytes()


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_load_nothing_from_outside(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    urls = asset_urls(page)
    for asset in ("/static/htmx.min.js", "/static/app.js", "/static/app.css"):
        assert any(url.split("?")[0] == asset for url in urls), asset
        assert client.get(asset).status_code == 200


# --- versioned URLs and caching -------------------------------------------------------------------

def test_every_static_url_carries_the_hash_of_the_file(clerk):
    html = clerk.get(TABLE).get_data(as_text=True)
    urls = asset_urls(html)
    assert len(urls) >= 3
    for url in urls:
        path, _, version = url.partition("?v=")
        content = (STATIC / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:10], url


def test_the_versioned_url_changes_with_the_content(app, tmp_path):
    """A file added or changed after start-up (another engineer's new script) gets its own version,
    and a new one when its content changes; no code lists the files."""
    from flask import url_for

    versions = app.extensions["static_versions"]
    versions.folder = app.static_folder = str(tmp_path)
    script = tmp_path / "cells.js"
    script.write_text("var a = 1;\n")
    with app.test_request_context():
        first = url_for("static", filename="cells.js")
    script.write_text("var a = 2;\n")  # same size: the change is seen by its content's hash
    os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 1_000_000))
    with app.test_request_context():
        second = url_for("static", filename="cells.js")
        missing = url_for("static", filename="nothing-here.js")
    assert first.startswith("/static/cells.js?v=") and second.startswith("/static/cells.js?v=")
    assert first != second
    assert missing == "/static/nothing-here.js"  # no file, no version (and a 404 as before)
    client = app.test_client()
    assert client.get(second).headers["Cache-Control"] == YEAR
    assert client.get(second).data == b"var a = 2;\n"
    assert "immutable" not in client.get(first).headers["Cache-Control"]  # an old version: served, not kept


def test_versioned_static_files_are_cached_for_a_year_unversioned_ones_revalidated(client):
    html = client.get("/login").get_data(as_text=True)
    for url in asset_urls(html):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == YEAR, url
        plain = client.get(url.split("?")[0])
        assert plain.status_code == 200 and plain.data == response.data
        assert plain.headers["Cache-Control"] == "no-cache", url  # revalidated with its ETag each time
        assert plain.headers.get("ETag")
        wrong = client.get(url.split("?")[0] + "?v=0123456789")
        assert wrong.headers["Cache-Control"] == "no-cache"


def test_pages_themselves_are_not_cached_for_long(clerk):
    response = clerk.get(TABLE)
    assert "immutable" not in response.headers.get("Cache-Control", "")


# --- compression ----------------------------------------------------------------------------------

def test_pages_assets_and_fragments_are_gzipped_when_accepted(clerk):
    page = clerk.get(TABLE, headers=GZIP)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    html = gzip.decompress(page.data).decode()
    assert "II.1.3" in html
    assert int(page.headers["Content-Length"]) == len(page.data) < len(html.encode()) / 3
    # the security headers survive compression
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for url in asset_urls(html):
        asset = clerk.get(url, headers=GZIP)
        assert asset.headers["Content-Encoding"] == "gzip", url
        assert asset.headers["Cache-Control"] == YEAR
        assert gzip.decompress(asset.data) == (STATIC / url.split("?")[0].removeprefix("/static/")).read_bytes()
    # brotli where the client prefers it (browsers over HTTPS)
    assert clerk.get(TABLE, headers={"Accept-Encoding": "gzip, deflate, br"}).headers["Content-Encoding"] == "br"
    # no compression for a client that does not ask
    plain = clerk.get(TABLE)
    assert "Content-Encoding" not in plain.headers
    assert without_token(plain.get_data(as_text=True)) == without_token(html)


def without_token(html: str) -> str:
    """A page without its CSRF token, which is stamped with the second it was made."""
    return re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]*', r"\1", html)


def test_an_htmx_fragment_is_compressed_and_reads_the_same(compiler):
    """The appendix's breakdown of a cell: an htmx fragment, as a browser receives it."""
    appendix = compiler.get("/campaigns/kl49-2024/appendix").get_data(as_text=True)
    link = re.search(r'<a class="drill" href="[^"]+" hx-get="([^"]+)"', appendix)
    assert link, "the appendix has no htmx breakdown link"
    url = link.group(1).replace("&amp;", "&")
    compressed = compiler.get(url, headers={"HX-Request": "true", **GZIP})
    plain = compiler.get(url, headers={"HX-Request": "true"})
    assert compressed.status_code == plain.status_code == 200
    assert len(plain.data) >= 500  # Flask-Compress leaves smaller bodies alone
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain.data
    assert "<html" not in plain.get_data(as_text=True)


def test_workbooks_are_not_compressed_again_and_csv_is(clerk, compiler):
    template = clerk.get("/campaigns/kl49-2024/template.xlsx", headers=GZIP)
    assert template.status_code == 200 and template.data[:2] == b"PK"  # a zip already
    assert "Content-Encoding" not in template.headers
    export = compiler.get("/campaigns/kl49-2024/export.xlsx", headers=GZIP)
    assert export.status_code == 200 and "Content-Encoding" not in export.headers
    late = compiler.get("/campaigns/kl49-2024/dashboard/chua-xong.csv", headers=GZIP)
    assert late.status_code == 200 and late.mimetype == "text/csv"
    assert late.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(late.data) == compiler.get("/campaigns/kl49-2024/dashboard/chua-xong.csv").data


# --- error pages in Vietnamese --------------------------------------------------------------------

def test_405_is_a_vietnamese_page_with_the_allowed_methods(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    html = response.get_data(as_text=True)
    assert "Không thực hiện được" in html and "Method Not Allowed" not in html


@pytest.fixture
def failing_app(demo_db, tmp_path):
    """The app as in production, where an exception in a view becomes the 500 page."""
    from conftest import _app_on_copy

    for app in _app_on_copy(demo_db, tmp_path, PROPAGATE_EXCEPTIONS=False):
        @app.get("/__boom")
        def boom():
            raise RuntimeError("boom")

        yield app


def test_500_is_a_vietnamese_page_and_plain_text_for_htmx(failing_app):
    client = failing_app.test_client()
    response = client.get("/__boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Lỗi máy chủ" in html and "Internal Server Error" not in html and "boom" not in html
    response = client.get("/__boom", headers={"HX-Request": "true"})
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("Máy chủ gặp lỗi")


@pytest.fixture
def csrf_client(demo_db, tmp_path):
    from conftest import _app_on_copy

    for app in _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True):
        yield app.test_client()


def test_a_csrf_failure_is_explained_in_vietnamese(csrf_client):
    page = csrf_client.post("/login", data={"username": "ln-02", "password": "demo123"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Biểu mẫu đã hết hạn" in html and "CSRF" not in html and "<html" in html
    for headers in ({"HX-Request": "true"}, {"Accept": "*/*"}):  # htmx, and fetch()
        short = csrf_client.post("/login", data={"username": "ln-02"}, headers=headers)
        assert short.status_code == 400 and short.mimetype == "text/plain"
        text = short.get_data(as_text=True)
        assert text.startswith("Biểu mẫu đã hết hạn") and len(text) < 200 and "CSRF" not in text


def test_other_errors_are_short_text_for_scripts_and_pages_for_people(clerk):
    assert clerk.get("/no-such-page").mimetype == "text/html"
    short = clerk.get("/no-such-page", headers={"HX-Request": "true"})
    assert short.status_code == 404 and short.get_data(as_text=True) == "Trang hoặc dữ liệu này không tồn tại."


# --- the page weight in a real browser ------------------------------------------------------------

class Recorder:
    """Every request that reaches the server (path and query), recorded around the WSGI app."""

    def __init__(self, app):
        self.seen: list[str] = []
        inner = app.wsgi_app

        def wsgi(environ, start_response):
            query = environ.get("QUERY_STRING")
            self.seen.append(environ["PATH_INFO"] + ("?" + query if query else ""))
            return inner(environ, start_response)

        app.wsgi_app = wsgi


def visit(page, url: str) -> list[dict]:
    """Open ``url`` in ``page`` and return what travelled, per request: the bytes on the wire (headers
    and body as received: Chromium's encodedDataLength), the decoded body, the Content-Encoding."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, dict] = {}

    def entry(event):
        return seen.setdefault(event["requestId"], {"wire": 0, "body": 0, "encoding": None, "cached": False})

    cdp.on("Network.requestWillBeSent", lambda e: entry(e).update(url=e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: entry(e).update(cached=True))
    cdp.on("Network.responseReceived", lambda e: entry(e).update(
        status=e["response"]["status"], cached=entry(e)["cached"] or e["response"].get("fromDiskCache", False),
        encoding={k.lower(): v for k, v in e["response"]["headers"].items()}.get("content-encoding"),
        mime=e["response"]["mimeType"]))
    cdp.on("Network.dataReceived", lambda e: entry(e).update(body=entry(e)["body"] + e["dataLength"]))
    cdp.on("Network.loadingFinished", lambda e: entry(e).update(wire=e["encodedDataLength"]))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    cdp.detach()
    return [e for e in seen.values() if "url" in e]


def report(label: str, transfers: list[dict]) -> int:
    total = sum(t["wire"] for t in transfers)
    print(f"\n{label}: {total} bytes on the wire, {sum(t['body'] for t in transfers)} bytes decoded")
    for t in transfers:
        print(f"  {t['wire']:>7} {t['body']:>7} {t.get('encoding') or '-':>5} "
              f"{'cache' if t['cached'] else ''} {t['url'].split('/', 3)[-1]}")
    return total


# Measured 2026-12-02 (demo, ln-02, II.1.3, Chromium 127.0.0.1, which takes brotli; bytes on the wire,
# headers included). Before compression and versioned URLs: 122,903 cold, 48,715 warm (the page again
# and three 304 revalidations). Now: about 37,000 cold (page 4.3 KB, htmx 17.2 KB, app.css 6.2 KB,
# app.js 2.0 KB, cells.js 7.3 KB; with gzip only, about 1 KB more) and 4,300 warm (the page alone).
# The budget leaves room for the scripts and styles to grow by half.
COLD_BUDGET = 60_000


@pytest.mark.browser
@pytest.mark.parametrize("offered, expected", [
    (None, "br"),  # what Chromium offers to localhost and over HTTPS: brotli
    ("gzip, deflate", "gzip"),  # what it offers over plain HTTP to a server on the intranet
], ids=["browser's choice", "plain HTTP"])
def test_the_table_page_weighs_little_cold_and_less_warm(browser, live_server, offered, expected):
    recorder = Recorder(CURRENT["app"])
    signed = signed_in(browser, live_server, "ln-02")
    # cold: a new browser context (empty cache) holding the same session
    context = browser.new_context(storage_state=signed.context.storage_state(),
                                  viewport={"width": 1366, "height": 900},
                                  extra_http_headers={"Accept-Encoding": offered} if offered else None)
    page = context.new_page()
    recorder.seen.clear()
    cold = visit(page, live_server + TABLE)
    cold_total = report(f"cold ({expected})", cold)
    cold_requests = list(recorder.seen)
    recorder.seen.clear()
    warm = visit(page, live_server + TABLE)
    warm_total = report(f"warm ({expected})", warm)
    warm_requests = list(recorder.seen)
    print(f"server saw cold: {cold_requests}\nserver saw warm: {warm_requests}")

    assets = [t for t in cold if "/static/" in t["url"]]
    assert {re.sub(r"\?.*", "", t["url"]).rsplit("/", 1)[-1] for t in assets} >= {"app.css", "htmx.min.js", "app.js"}
    for t in cold:  # every text response travelled compressed
        assert t["status"] == 200 and t["encoding"] == expected, t
    assert cold_total < COLD_BUDGET, cold_total
    # warm: only the page itself went to the server; no asset was asked for again, not even revalidated
    assert warm_requests == [TABLE], warm_requests
    assert [t for t in warm if "/static/" in t["url"] and t["wire"] > 0] == []
    assert warm_total < cold_total / 3
    context.close()
