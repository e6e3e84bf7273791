"""``flask --app wsgi …`` commands for operators."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import stamp, upgrade
from sqlalchemy import inspect, select

from .extensions import db
from .models import ROLES, User, new_id
from .services.audit import CheckpointError, make_checkpoint, read_checkpoints, verify_history
from .services.audit_marks import audit_key
from .services.auth import hash_password
from .services.changes import ensure_feed_state
from .services.demo import DEMO_PASSWORD, DEMO_USERS, create_demo, is_empty
from .services.importer import import_accounts, import_actor


def init_database() -> None:
    """Bring the schema to the newest migration and make the feed's row.

    A schema made straight from the models (as the test suite does) has no
    Alembic bookkeeping; it is the newest schema, so it is stamped instead
    of being created a second time."""
    tables = set(inspect(db.engine).get_table_names())
    if "feed_state" in tables and "alembic_version" not in tables:
        stamp()
    else:
        upgrade()
    ensure_feed_state()


def register_cli(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db_command():
        """Create or upgrade the database schema (idempotent)."""
        init_database()
        click.echo("database ready")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--name", default=None, help="Display name (default: the user name).")
    @click.option("--no-input", is_flag=True, help="Read the password from FIELDVISIT_PASSWORD.")
    def create_user_command(username, role, name, no_input):
        """Create a user; prompts for the password."""
        if no_input:
            password = os.environ.get("FIELDVISIT_PASSWORD")
            if not password:
                raise click.UsageError("--no-input needs FIELDVISIT_PASSWORD to be set")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise click.UsageError("the password must have at least 8 characters")
        if db.session.scalar(select(User).where(User.username == username)):
            raise click.UsageError(f"user {username!r} exists already")
        db.session.add(User(id=new_id(), username=username, name=name or username, role=role,
                            password_hash=hash_password(password)))
        db.session.commit()
        click.echo(f"created {role} {username}")

    @app.cli.command("import-accounts")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_accounts_command(path):
        """Import or update accounts from a CSV file (all rows or none)."""
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        report = import_accounts(db.session, text, import_actor(None),
                                 current_app.config["RULES"], _geocoder())
        if not report.ok:
            for problem in report.errors:
                details = "; ".join(f"{column}: {' '.join(found)}"
                                    for column, found in problem["errors"].items())
                click.echo(f"line {problem['line']}: {details}", err=True)
            click.echo(f"nothing imported: {len(report.errors)} bad row(s)", err=True)
            sys.exit(1)
        click.echo(f"imported: {report.created} new, {report.updated} updated, "
                   f"{report.unchanged} unchanged, {report.reassigned} reassigned, "
                   f"{report.geocoded} geocoded")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when users exist already.")
    def demo_command(if_empty):
        """Load the demo data set (users, Taipei portfolio, visit history)."""
        init_database()
        if not is_empty(db.session):
            if not if_empty:
                raise click.ClickException(
                    "the database is not empty; demo data goes into an empty one")
            click.echo("the database has data already; demo data not loaded again")
        else:
            summary = create_demo(db.session, current_app.config)
            db.session.commit()
            click.echo(f"demo loaded: {summary['accounts']} accounts, {summary['visits']} visits, "
                       f"{summary['payments']} payments")
        if db.session.scalar(select(User).where(User.username == "supervisor")):
            click.echo(f"demo logins (password for each: {DEMO_PASSWORD}):")
            for username, name, role, _ in DEMO_USERS:
                click.echo(f"  {username:<11} {role:<10} {name}")
            click.echo("collector app: http://127.0.0.1:5000/   supervisor: http://127.0.0.1:5000/supervisor/")

    audit = AppGroup("audit", help="Integrity checks of the history (see README, Audit).")
    app.cli.add_command(audit)

    @audit.command("verify")
    @click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
                  help="A file of checkpoints (flask audit checkpoint) kept outside the database.")
    def audit_verify_command(checkpoint_file):
        """Check the history chain, the checkpoints and every record against
        its history; name the first row or record that is wrong."""
        key = audit_key()
        checkpoints = _checkpoints(checkpoint_file, key) if checkpoint_file else []
        result = verify_history(db.session, key, checkpoints)
        _report(result)
        if not result.ok:
            sys.exit(1)

    @audit.command("checkpoint")
    @click.option("--append", "append_to", type=click.Path(dir_okay=False),
                  help="Also append the checkpoint to FILE (created if missing).")
    def audit_checkpoint_command(append_to):
        """Print a checkpoint of the history's head, signed with the audit key,
        after checking the chain (and the checkpoints already in FILE)."""
        key = audit_key()
        if key is None:
            raise click.ClickException(
                "FIELDVISIT_AUDIT_KEY is not set: a checkpoint signed with no key proves nothing")
        earlier = _checkpoints(append_to, key) if append_to and os.path.exists(append_to) else []
        result = verify_history(db.session, key, earlier, records=False)
        if not result.ok:
            _report(result)
            click.echo("no checkpoint taken: the history does not verify", err=True)
            sys.exit(1)
        line = make_checkpoint(db.session, key).to_line()
        click.echo(line)
        if append_to:
            with open(append_to, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    from .cli_rules import register_rules_cli
    register_rules_cli(app)
    from .cli_attachments import register_attachments_cli
    register_attachments_cli(app)
    from .worker import register_worker_cli
    register_worker_cli(app)


def _checkpoints(path: str, key: bytes | None) -> list:
    if key is None:
        raise click.ClickException(
            "checkpoints are signed with FIELDVISIT_AUDIT_KEY: set it to check them")
    with open(path, encoding="utf-8") as handle:
        try:
            return read_checkpoints(handle, key)
        except CheckpointError as exc:
            click.echo(f"checkpoints BROKEN: {exc}", err=True)
            sys.exit(1)


def _report(result) -> None:
    """What ``flask audit`` found, in an operator's words."""
    if result.problem is not None:
        if result.record is not None:
            entity, record_id = result.record
            click.echo(f"records BROKEN at {entity} {record_id}: {result.problem} "
                       f"({result.records} records verified before it)", err=True)
        else:
            where = f"at history row {result.broken_at}" if result.broken_at else "at its end"
            click.echo(f"history BROKEN {where}: {result.problem} "
                       f"({result.checked} rows verified before it)", err=True)
        return
    keyed = (f", {result.keyed} keyed with the audit key from row {result.keyed_from} on"
             if result.keyed else "")
    click.echo(f"history intact: {result.checked} rows verified{keyed}")
    click.echo(f"records intact: {result.records} records are what their history replays to")
    if result.newest_checkpoint is not None:
        newest = result.newest_checkpoint
        click.echo(f"checkpoints agree: {result.checkpoints} (the newest, of {newest.at}, "
                   f"saw row {newest.position})")
    for note in result.notes:
        click.echo(f"note: {note}")


def _geocoder():
    from .rules.geocoding import geocode_address, make_geocoder

    cfg = current_app.config
    geocoder = make_geocoder(cfg["GEOCODER"], cfg["GEOCODER_DOMAIN"], cfg["GEOCODER_SCHEME"],
                             "fieldvisit-import", 10)
    if geocoder is None:
        return None
    return lambda address: geocode_address(geocoder, address)
