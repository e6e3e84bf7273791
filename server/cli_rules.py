"""``flask --app wsgi promises …``: rule upkeep that runs from cron.

Kept apart from ``cli.py`` (set-up and import commands) so the rules' jobs
have one home."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .models import utcnow
from .services.changes import Actor
from .services.clock import server_clock
from .services.upkeep import refresh_due_promises
from .services.writes import transaction

# The server itself, not a user or a device, decides a promise by the date.
UPKEEP_CLIENT = "server"


def register_rules_cli(app: Flask) -> None:
    # AppGroup (not click.Group) gives each command an app context also when
    # it is invoked through app.cli directly (cron wrappers, test_cli_runner).
    promises = AppGroup("promises", help="Promise-to-pay upkeep.")
    app.cli.add_command(promises)

    @promises.command("refresh")
    def promises_refresh_command():
        """Mark pending promises kept or broken once payments or the date decide
        them. Safe to run at any time and as often as wanted (cron: hourly)."""
        actor = Actor(None, UPKEEP_CLIENT, None, str(server_clock.send()))
        counts = transaction(lambda tx: refresh_due_promises(tx, utcnow(), actor),
                             rules=current_app.config["RULES"])
        click.echo(f"promises: {counts['checked']} checked, {counts['kept']} kept, "
                   f"{counts['broken']} broken"
                   + (f", {counts['refused']} refused by the rules" if counts["refused"] else ""))
