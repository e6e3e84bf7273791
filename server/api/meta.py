"""Documents about the API: the OpenAPI description and the guidance texts."""

from flask import current_app

from ..maps import client_map_config
from ..rules.guidance import guidance_document
from .common import current_user
from .openapi import openapi_document


def openapi():
    return openapi_document(current_app.config["MAX_CONTENT_LENGTH"]), 200


def guidance():
    current_user()
    return guidance_document(), 200


def client_config():
    current_user()
    return {"map": client_map_config(current_app.config)}, 200


def health():
    return {"status": "ok"}, 200


def register(bp):
    bp.add_url_rule("/openapi.json", view_func=openapi, methods=["GET"])
    bp.add_url_rule("/guidance", view_func=guidance, methods=["GET"])
    bp.add_url_rule("/client-config", view_func=client_config, methods=["GET"])
    bp.add_url_rule("/health", view_func=health, methods=["GET"])
