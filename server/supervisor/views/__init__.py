"""The supervisor pages' views: parse the request, call a query or an
action, render. Imported by the package, which registers their routes."""

from __future__ import annotations

from flask import abort, flash, request

from ... import messages
from ..actions import NotFound


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def flash_refusal(exc) -> None:
    """Show why an action was refused; 404 for what does not exist. The
    write layer's reasons are shown each in the reader's language."""
    if isinstance(exc, NotFound):
        abort(404)
    flash((exc.message, exc.values), "error")
    for reasons in exc.reasons.values():
        for reason in reasons:
            flash(messages.parse(reason), "error")
