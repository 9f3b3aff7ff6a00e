"""The application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from . import dialect  # noqa: F401  (the SQLite pragmas of every new connection)
from .config import Config, from_environment, resolve_secret_key
from .extensions import csrf, db, htmx, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_object(Config)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "phuluc.sqlite")
    app.config["SECRET_KEY"] = resolve_secret_key(app.config["APP_ENV"], app.config.get("SECRET_KEY"),
                                                  app.instance_path)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    from . import audit_origin  # noqa: F401  (stamps every audit event with where it came from)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"

    from . import models  # noqa: F401  (models must be known to Alembic and the login loader)
    from .admin.routes import bp as admin_bp
    from .assets import register_assets
    from .auth.routes import bp as auth_bp
    from .entry.routes import bp as entry_bp
    from .narrate.routes import bp as narrate_bp
    from .review.routes import bp as review_bp
    from .xlsx.routes import bp as xlsx_bp
    from .cli import register_cli
    from .security import register_security
    from .serving import register_serving
    from .templating import register_templating

    app.register_blueprint(auth_bp)
    app.register_blueprint(entry_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(xlsx_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(narrate_bp)
    register_security(app)
    register_serving(app)
    register_assets(app)
    register_templating(app)
    register_cli(app)
    register_error_pages(app)
    return app


ERRORS = {
    400: ("Yêu cầu không hợp lệ", "Máy chủ không hiểu yêu cầu này. Hãy tải lại trang rồi thử lại."),
    403: ("Không có quyền", "Tài khoản của bạn không được xem hoặc sửa nội dung này."),
    404: ("Không tìm thấy", "Trang hoặc dữ liệu này không tồn tại."),
    405: ("Không thực hiện được", "Trang này không nhận yêu cầu theo cách vừa gửi. Hãy quay lại trang "
                                  "trước và dùng các nút trên trang."),
    413: ("Tệp quá lớn", "Tệp tải lên vượt quá dung lượng cho phép."),
    500: ("Lỗi máy chủ", "Máy chủ gặp lỗi khi xử lý yêu cầu; những gì vừa gửi có thể chưa được lưu. "
                         "Hãy thử lại; nếu vẫn lỗi, báo cho quản trị."),
}
CSRF_ERROR = ("Biểu mẫu đã hết hạn", "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ, nên chưa có gì được lưu. "
                                     "Hãy tải lại trang rồi nhập lại.")


def wants_text() -> bool:
    """A request made by a script (htmx or fetch) rather than a page the browser navigates to: its
    error gets one plain line for the page to show, not a whole page."""
    from flask import request

    return (request.headers.get("HX-Request") == "true"
            or request.headers.get("X-Requested-With") == "XMLHttpRequest"
            or request.headers.get("Sec-Fetch-Mode") in ("cors", "same-origin")
            or "text/html" not in request.headers.get("Accept", "text/html"))


def error_response(code: int, title: str, message: str, headers=None):
    from flask import make_response, render_template

    response = None
    if not wants_text():
        try:
            response = make_response(render_template("errors.html", code=code, title=title,
                                                     message=message), code)
        except Exception:  # a 500 whose page cannot be drawn (e.g. the database is down): plain text
            if code != 500:
                raise
    if response is None:
        response = make_response(message, code)
        response.mimetype = "text/plain"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def handler(exc):
        code = getattr(exc, "code", None) or 500
        title, message = ERRORS[code]
        if code == 500:
            db.session.rollback()  # the page below may read the signed-in user
        elif exc.description != type(exc).description:  # abort(code, "…"): the view's own message
            message = exc.description
        headers = {}
        if code == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(code, title, message, headers)

    def csrf_handler(exc):  # Flask-WTF has logged its reason (in English)
        return error_response(400, *CSRF_ERROR)

    for code in ERRORS:
        app.register_error_handler(code, handler)
    app.register_error_handler(CSRFError, csrf_handler)
