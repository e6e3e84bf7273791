"""gzip for JSON answers when the client accepts it (docs/protocol.md): a first
pull of a whole portfolio shrinks several-fold on a slow connection."""

import gzip

from flask import Flask, request

MIN_SIZE = 1024


def enable_gzip(app: Flask) -> None:
    @app.after_request
    def compress(response):
        if (
            response.status_code < 200
            or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or response.mimetype != "application/json"
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
        ):
            return response
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        response.set_data(gzip.compress(data, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(response.get_data()))
        response.vary.add("Accept-Encoding")
        return response
