"""``flask --app wsgi attachments …``: upkeep of attachment bytes."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .attachments import blob_store
from .attachments.retention import purge_attachments
from .attachments.settings import settings_of


def register_attachments_cli(app: Flask) -> None:
    attachments = AppGroup("attachments", help="Photos, signatures and documents.")
    app.cli.add_command(attachments)

    @attachments.command("purge")
    @click.option("--temp-age", type=click.IntRange(min=0), default=3600, show_default=True,
                  help="Delete temporary files older than this many seconds (0 right after a "
                       "crash, while no server runs).")
    def purge_command(temp_age):
        """Delete the bytes of attachments older than the retention setting
        (FIELDVISIT_ATTACHMENT_RETENTION_DAYS) and what failed uploads and
        redactions left behind; records and history stay. Safe at any time
        (cron: daily)."""
        settings = settings_of(current_app)
        report = purge_attachments(temp_max_age_s=temp_age)
        days = settings.retention_days
        click.echo(f"store: {blob_store(current_app).description}")
        click.echo(f"retention: {f'{days} day' + ('s' if days != 1 else '') if days else 'off'}; "
                   f"{report.purged} attachments' content deleted"
                   + (f", {report.refused} refused by the rules" if report.refused else ""))
        click.echo(f"cleaned up: {report.stale_files} files of redacted or purged attachments, "
                   f"{report.stale_uploads} finished or redacted uploads' chunks, "
                   f"{report.stale_temps} temporary files")
