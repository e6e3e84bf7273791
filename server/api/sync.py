"""Push and pull views: parse, call the sync service, answer."""

from flask import current_app, request

from ..extensions import db
from ..models import User, utcnow
from ..services.device_clock import DeviceClock
from ..services.device_report import note_pull, parse_headers
from ..services.pull import CursorCodec, pull
from ..services.push import Mutation, PushSettings, push
from ..services.writes import transaction
from .common import current_user, json_body, load
from .schemas import PullQuerySchema, PushSchema, load_push


def push_view():
    # The request's arrival, before its body is read: the phone's sent_at
    # is compared with it (services/device_clock.py).
    received_at = utcnow()
    user = current_user()
    user_id = user.id
    # The token check's connection goes back to the pool before the body is
    # read: a phone on a slow link holds none while it sends.
    db.session.rollback()
    data = json_body(PushSchema(), load_push)
    clock = None
    if data.get("sent_at") is not None:
        clock = DeviceClock((data["sent_at"] - received_at).total_seconds(),
                            current_app.config["CLOCK_OFF_MINUTES"] * 60)
    report = parse_headers(request.headers)
    mutations = [
        Mutation(m["seq"], m["hlc"], m["entity"], m["id"], m["base_version"], m["fields_"])
        for m in data["mutations"]
    ]
    settings = PushSettings(current_app.config["HLC_MAX_AHEAD_MS"])
    timing: dict = {}
    result = transaction(
        lambda tx: push(tx, tx.session.get(User, user_id), data["client_id"],
                        mutations, settings, report=report, clock=clock),
        rules=current_app.config["RULES"], stats=timing,
    )
    # How long the write held the feed lock, the one part of a push that
    # waits for other writers (bench/concurrent_push.py reads it).
    return result, 200, {"Server-Timing": f"db;dur={timing['total_ms']:.2f}, "
                                          f"feedlock;dur={timing['feed_lock_ms']:.2f}"}


def pull_view():
    user = current_user()
    args = load(PullQuerySchema(), request.args.to_dict(), "the query does not match the pull parameters")
    codec = CursorCodec(current_app.config["SECRET_KEY"])
    try:
        result = pull(db.session, user, args.get("cursor"), args["limit"], codec,
                      current_app.config["RULES"])
    finally:
        db.session.rollback()
    # The device's report, in a small write of its own (services/device_report.py).
    note_pull(db.session, user.id, parse_headers(request.headers), utcnow())
    return result, 200


def register(bp):
    bp.add_url_rule("/sync/push", view_func=push_view, methods=["POST"])
    bp.add_url_rule("/sync/pull", view_func=pull_view, methods=["GET"])


