"""The application factory."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .compression import enable_gzip
from .errors import JSONTooDeep, register_error_handlers
from .extensions import csrf, db, login_manager, migrate
from .http_policy import install_http_policy
from .proxies import trust_proxies
from .rules.config import RulesConfig
from .sessions import SessionInterface

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON (RFC 8259); the json module reads them
    # by default, and a non-finite number reaches no column.
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError(f"{text} is out of range for a number")
    return value


def _json_column_dumps(value) -> str:
    """JSON columns (field clocks, flags, history) through orjson; what it
    refuses (an integer beyond 64 bits kept in a refused change) through
    the json module."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value)


def _json_column_loads(text):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class OrjsonProvider(DefaultJSONProvider):
    """orjson for request bodies and answers: a pull page of 500 records
    or a push of 500 mutations is encoded and parsed several times faster
    than with the json module. What orjson refuses (a lone surrogate, an
    integer beyond 64 bits, a key that is no string) goes to the json
    module, which reads it as before — except NaN, Infinity and numbers
    too large for a float (1e400), which are no JSON and answer 400."""

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return self._bytes(obj).decode()

    def loads(self, s, **kwargs):
        if not kwargs:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                pass
        try:
            return json.loads(s, parse_constant=_refuse_constant, parse_float=_finite_float,
                              **kwargs)
        except RecursionError:
            # Nested deeper than the interpreter's stack (orjson stops at
            # 1024 levels, json.loads near 1000): malformed input, a 400,
            # not a crash. ValueError is what Flask turns into BadRequest.
            raise JSONTooDeep("JSON nested too deeply") from None

    def _bytes(self, obj) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=self._OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().dumps(obj).encode()

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._bytes(obj) + b"\n", mimetype=self.mimetype)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("FIELDVISIT_INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.from_environment(app.instance_path))
    app.config["RULES"] = RulesConfig.from_env(os.environ)
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"])
    # Whatever else a deployment or a test sets for the engine, a failed
    # statement never writes its parameters (debtor data) into a log.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "json_serializer": _json_column_dumps, "json_deserializer": _json_column_loads,
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "hide_parameters": True}
    app.session_interface = SessionInterface()
    trust_proxies(app)
    from .maps import validate_tiles_url

    # A bad tile template stops the server at start-up, not the phones' maps later.
    validate_tiles_url(app.config["MAP_TILES_URL"])
    config_module.validate_audit_key(app.config.get("AUDIT_KEY"))
    from .webhooks.settings import validate as validate_webhooks

    validate_webhooks(app.config)
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    db.init_app(app)
    from .attachments import init_app as init_attachments

    init_attachments(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    login_manager.init_app(app)
    csrf.init_app(app)

    from .api import api
    from .pwa_files import pwa
    from .supervisor import supervisor

    # The API authenticates with bearer tokens, not cookies, so CSRF (a
    # cookie attack) does not apply to it.
    csrf.exempt(api)
    app.register_blueprint(api)
    app.register_blueprint(supervisor)
    app.register_blueprint(pwa)

    register_error_handlers(app)
    install_http_policy(app)
    enable_gzip(app)

    from .cli import register_cli

    register_cli(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite as the embedded default: WAL so readers never wait for the
    writer, foreign keys enforced, and a busy timeout instead of failing
    at once when another process holds the write lock."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
