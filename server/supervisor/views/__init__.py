"""The supervisor pages' views: parse the request, call a query or an
action, render. Imported by the package, which registers their routes."""

from __future__ import annotations

from flask import request


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1
