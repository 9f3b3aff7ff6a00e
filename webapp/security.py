"""HTTP hardening: security headers on every response, Secure cookies over HTTPS, a reverse proxy.

- Every response carries a Content-Security-Policy that allows no inline script or style (the
  pages keep their scripts in static/app.js and their styles in static/app.css), nosniff,
  Referrer-Policy same-origin and X-Frame-Options DENY.
- The session cookie and Flask-Login's remember cookie are marked Secure whenever the request came
  over HTTPS (or always with SESSION_COOKIE_SECURE=1), so an HTTPS install needs no setting.
- TRUSTED_PROXIES=N (the number of reverse proxies in front of the app) makes werkzeug's ProxyFix
  trust that many X-Forwarded-For/-Proto/-Host/-Port headers: the client address recorded in the
  audit and counted by the sign-in throttle, and the HTTPS scheme, are then the real ones.
- Every response to a signed-in user (pages, htmx fragments, the script's answers, the Excel and CSV
  downloads) says ``Cache-Control: private, no-store``: it holds the unit's data, which no browser
  cache or proxy may keep (a shared computer, Back after signing out). A view that sets its own
  Cache-Control keeps it (the password slip's ``no-store``), except the ``no-cache`` that send_file
  puts on every download. Static files are left to assets.py (a year for versioned URLs).
- A request with a NUL character in its path, query or form is refused (400) before any view runs:
  no person types one, and PostgreSQL refuses it in text, so it could only end as a server error.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager as _LoginManager, current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def request_is_secure() -> bool:
    return has_request_context() and request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, Secure when configured so or when this request is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request_is_secure()


class LoginManager(_LoginManager):
    """Flask-Login whose remember cookie is also Secure over HTTPS (it reads only the config)."""

    def _set_cookie(self, response: Response) -> None:
        if current_app.config.get("REMEMBER_COOKIE_SECURE") or not request_is_secure():
            return super()._set_cookie(response)
        set_cookie = response.set_cookie

        def secure_set_cookie(*args, **kwargs):
            kwargs["secure"] = True
            return set_cookie(*args, **kwargs)

        response.set_cookie = secure_set_cookie  # this response only
        try:
            super()._set_cookie(response)
        finally:
            del response.set_cookie


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


SIGNED_IN_CACHE_CONTROL = "private, no-store"
SEND_FILE_CACHE_CONTROL = "no-cache"  # what werkzeug's send_file sets when the view says nothing


def signed_in() -> bool:
    try:
        return bool(current_user.is_authenticated)
    except SQLAlchemyError:  # the user could not be loaded (a 500 with the database down): be safe
        return True


def keep_signed_in_answers_out_of_caches(response: Response) -> Response:
    if request.endpoint == "static":
        return response
    own = response.headers.get("Cache-Control")
    if own and own != SEND_FILE_CACHE_CONTROL:
        return response
    if signed_in():
        response.headers["Cache-Control"] = SIGNED_IN_CACHE_CONTROL
    return response


NUL_REFUSED = "Yêu cầu chứa ký tự không hợp lệ (NUL). Hãy tải lại trang và nhập lại."


def refuse_nul_characters() -> None:
    texts = [request.path, *(f"{k}{v}" for k, v in request.args.items(multi=True))]
    if request.method == "POST":
        texts += [f"{k}{v}" for k, v in request.form.items(multi=True)]
        texts += [f.filename or "" for f in request.files.values()]
    if any("\x00" in text for text in texts):
        abort(400, NUL_REFUSED)


def register_security(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(refuse_nul_characters)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", bool(app.config.get("SESSION_COOKIE_SECURE")))
    # after_request hooks run in reverse order of registration: this one runs after those of assets.py
    # and Flask-Compress (registered later), so it sees the headers they set
    app.after_request(keep_signed_in_answers_out_of_caches)
    app.after_request(add_security_headers)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies)
