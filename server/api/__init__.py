"""The JSON API under ``/api/v1``: one blueprint per area."""

from flask import Blueprint

from . import attachments, auth, devices, meta, plan, sync

api = Blueprint("api", __name__, url_prefix="/api/v1")
for module in (auth, meta, plan, sync, attachments, devices):
    module.register(api)
