"""Attachments' bytes: where they are kept (``blobstore``), how a chunked
upload becomes a verified file (``content``), what happens to the bytes
when a record is redacted or grows old (``lifecycle``, ``retention``) and
the limits that apply (``settings``). The records themselves are an entity
like any other (``server/entities/attachment.py``), written through the one
write layer."""

from __future__ import annotations

from flask import Flask

from .blobstore import open_store
from .settings import settings_of

EXTENSION = "fieldvisit_blobs"


def init_app(app: Flask) -> None:
    """Check the settings and open the store at start-up, so a wrong
    ``FIELDVISIT_ATTACHMENTS_URL`` stops the server, not an upload later."""
    settings = settings_of(app)
    app.extensions[EXTENSION] = open_store(settings.url, app.instance_path,
                                           settings.s3_endpoint_url)
    from . import lifecycle

    lifecycle.install()


def blob_store(app: Flask):
    return app.extensions[EXTENSION]
