"""The OpenAPI parts of docs/protocol.md 1.1 "Device clock and device report":
the four request headers of push and pull, and ``GET /api/v1/devices``."""

from __future__ import annotations

UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
TIME = {"type": "string", "format": "date-time"}
_IGNORED = " A malformed value is ignored (the last good one stays), never an error."

# Any text is accepted (a malformed value is ignored, never refused), so the
# headers' schemas are plain strings; the form each must have to count is
# in its description.
_ANY = {"type": "string"}
DEVICE_HEADERS = [
    {"name": "Fieldvisit-Client", "in": "header", "required": False, "schema": _ANY,
     "description": "The device's client_id (a lower-case hyphenated UUID). On push the body's "
                    "client_id is used instead; on pull this names the device. A client_id bound "
                    "to another user is not written; an unknown one is bound to the pulling "
                    "user." + _IGNORED},
    {"name": "Fieldvisit-App-Version", "in": "header", "required": False, "schema": _ANY,
     "description": "The app's version: 1 to 64 printable ASCII characters, no leading or trailing "
                    "space (the collector app sends its shell version)." + _IGNORED},
    {"name": "Fieldvisit-Outbox", "in": "header", "required": False, "schema": _ANY,
     "description": "`<count>[; oldest=<RFC 3339>]`: changes waiting on the device (0 to 10^9) "
                    "and when the oldest was made (with an offset, years 1900–2999)." + _IGNORED},
    {"name": "Fieldvisit-Storage", "in": "header", "required": False, "schema": _ANY,
     "description": "`persisted` or `best-effort`: whether the browser promised to keep the "
                    "app's data." + _IGNORED},
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
