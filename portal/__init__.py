"""The Invoice Portal application factory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import Flask, g, request

from .config import ROOT, check_config, load_config
from .extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config -> extensions -> blueprints -> errors. No I/O beyond folders."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    check_config(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import models, users  # noqa: F401 - registers every table and the user loader
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True,
                    render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from .ratelimits import init_rate_limits
    from .sessions import init_sessions
    init_sessions(app)
    init_rate_limits(app)

    from .db_setup import configure_engine
    with app.app_context():
        configure_engine(db.engine)

    from .i18n import init_i18n
    init_i18n(app)

    from .wiring import init_background
    init_background(app)

    _register_blueprints(app)
    from .unit_of_work import init_unit_of_work
    init_unit_of_work(app)
    _register_request_hooks(app)

    from .input_guard import init_input_guard
    init_input_guard(app)

    from .errors import register_error_handlers
    register_error_handlers(app)

    from .templating import register_template_helpers
    register_template_helpers(app)

    from .cli import register_cli
    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .customer import bp as customer_bp
    from .main import bp as main_bp
    from .organizer import bp as organizer_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(customer_bp, url_prefix="/my")
    app.register_blueprint(organizer_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    # The API authenticates with tokens, not cookies: CSRF does not apply there.
    csrf.exempt(api_bp)
    from .compat import register_compat
    register_compat(app)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 200 and incoming.isprintable() \
            else uuid.uuid4().hex

    @app.after_request
    def _security_headers(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=63072000; includeSubDomains")
        return response
