"""``GET /api/v1/devices`` (docs/protocol.md 1.1 "Device clock and device
report"): every phone's last report, for supervisors only."""

from ..errors import ApiError
from ..extensions import db
from ..services.devices import devices, to_wire
from .common import current_user


def devices_view():
    user = current_user()
    if not user.is_supervisor:
        raise ApiError(403, "only supervisors may list the devices")
    try:
        found = [to_wire(device) for device in devices(db.session)]
    finally:
        db.session.rollback()  # a read: no snapshot outlives the request
    return {"devices": found}, 200


def register(bp):
    bp.add_url_rule("/devices", view_func=devices_view, methods=["GET"])
