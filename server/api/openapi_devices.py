"""The OpenAPI parts of PROTOCOL.md 1.1 "Device clock and device report":
the four request headers of push and pull, and ``GET /api/v1/devices``."""

from __future__ import annotations

UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
TIME = {"type": "string", "format": "date-time"}
_IGNORED = " A malformed value is ignored (the last good one stays), never an error."

DEVICE_HEADERS = [
    {"name": "Fieldvisit-Client", "in": "header", "required": False, "schema": UUID,
     "description": "The device's client_id. On push the body's client_id is used instead; on "
                    "pull this names the device. A client_id bound to another user is not "
                    "written; an unknown one is bound to the pulling user." + _IGNORED},
    {"name": "Fieldvisit-App-Version", "in": "header", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 64,
                "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
     "description": "The app's version (the collector app sends its shell version)." + _IGNORED},
    {"name": "Fieldvisit-Outbox", "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": 200,
                "pattern": "^\\s*[0-9]{1,10}\\s*(;\\s*oldest\\s*=\\s*\\S+\\s*)?$"},
     "description": "`<count>[; oldest=<RFC 3339>]`: changes waiting on the device and when the "
                    "oldest was made; count at most 10^9." + _IGNORED},
    {"name": "Fieldvisit-Storage", "in": "header", "required": False,
     "schema": {"type": "string", "enum": ["persisted", "best-effort"]},
     "description": "Whether the browser promised to keep the app's data." + _IGNORED},
]

COMPONENTS = {
    "Device": {
        "type": "object",
        "required": ["client_id", "user", "app_version", "last_seen_at", "last_push_at", "last_seq",
                     "outbox", "storage", "clock_offset_s"],
        "properties": {
            "client_id": UUID,
            "user": {"type": "object", "required": ["id", "username", "name"],
                     "properties": {"id": UUID, "username": {"type": "string"},
                                    "name": {"type": "string"}}},
            "app_version": {"type": ["string", "null"]},
            "last_seen_at": {**TIME, "type": ["string", "null"],
                             "description": "The last push or pull that named the device."},
            "last_push_at": {**TIME, "type": ["string", "null"]},
            "last_seq": {"type": "integer"},
            "outbox": {"type": "object", "required": ["count", "oldest_at"], "properties": {
                "count": {"type": ["integer", "null"]},
                "oldest_at": {**TIME, "type": ["string", "null"]}}},
            "storage": {"type": ["string", "null"], "enum": ["persisted", "best-effort", None]},
            "clock_offset_s": {"type": ["number", "null"],
                               "description": "sent_at − server receive time of the device's last "
                                              "push that carried sent_at (positive: fast)."},
        },
    },
}


def device_paths(error) -> dict:
    return {"/api/v1/devices": {"get": {
        "operationId": "devices", "summary": "Every device's last report, most recently seen first.",
        "description": "Supervisors only. Null where the device never said.",
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
            "type": "object", "required": ["devices"], "properties": {"devices": {
                "type": "array", "items": {"$ref": "#/components/schemas/Device"}}}}}}},
            "401": error("No, unknown, expired or revoked token."),
            "403": error("Not a supervisor.")},
    }}}
