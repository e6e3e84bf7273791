"""The OpenAPI 3.1 document of sync protocol v1.1 (``GET /api/v1/openapi.json``).

Where docs/protocol.md is silent this document records the choice made, in the
``description`` of the operation or schema concerned (look for "Choice:")."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from ..entities import ENTITIES
from ..services import amendments, conflict_sides
from . import openapi_devices

UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
HLC = {"type": "string", "pattern": "^[0-9]{13}:[0-9a-f]{4}:[A-Za-z0-9-]{1,64}$"}
TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
# Text a database can store: no NUL, no unpaired surrogate.
STORABLE_TEXT = "^[^\\u0000\\ud800-\\udfff]*$"
MONEY = {"type": "integer", "minimum": 0, "description": "Minor units of the account's currency."}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


ERRORS_AUTH = {"401": _error("No, unknown, expired or revoked token.")}

ACCOUNT_COMPUTED = {
    "days_past_due": {"type": "integer"},
    "aging_bucket": _enum(("current", "1-30", "31-60", "61-90", "91-180", "181-360", "361-720", "721+")),
    "priority": {"type": "integer", "description": "Expected recoverable amount, minor units."},
    "attempts_recent": {"type": "integer"},
    "broken_promises": {"type": "integer", "description": "Choice: an extra read-only field."},
    "alerts": {"type": "array", "items": {"type": "string"},
               "description": "Choice: account-level alerts, e.g. `redirect_loop` after two redirects in a row."},
    "escalation": _nullable({"type": "object", "description": "Choice: a suggestion `{suggest: agency|legal, reasons}` for the supervisor."}),
}
# Whose value a conflict kept or set aside, seen from the pushing device
# (server/services/conflict_sides.py).
PUSH_SIDES = ("this_device", "my_other_device", "office", "other_collector")
COMMON = {"id": UUID, "version": {"type": "integer"}, "updated_at": _nullable(TIME)}


def _json_schema_patterns(node):
    """Python's end-of-text anchor ``\\Z`` (the schemas use it so that a final
    newline never passes) is ``$`` in the ECMA regexes of JSON Schema."""
    if isinstance(node, dict):
        return {k: (v[:-2] + "$" if k == "pattern" and isinstance(v, str) and v.endswith("\\Z")
                    else _json_schema_patterns(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_schema_patterns(v) for v in node]
    return node


def entity_components() -> dict[str, dict]:
    """The records' component schemas, generated from the entities' one
    marshmallow schema each (apispec), so that names, types, lengths,
    ranges, patterns and choices can never drift from what the server
    checks. Fields the server keeps or computes are marked read-only."""
    spec = APISpec("fieldvisit", "1.1", "3.1.0", plugins=[MarshmallowPlugin()])
    converter = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter
    components = {}
    for name, entity in ENTITIES.items():
        properties = dict(COMMON)
        properties.update(converter.schema2jsonschema(entity.schema)["properties"])
        kept = converter.schema2jsonschema(entity.kept)["properties"] if entity.kept else {}
        for field in entity.read_only:
            if field in kept:
                properties[field] = {**kept[field], "readOnly": True}
        if name == "account":
            properties.update({k: {**v, "readOnly": True} for k, v in ACCOUNT_COMPUTED.items()})
        if not entity.derived_only:
            properties["conflicts"] = conflict_sides.wire_fields()
        if name == "visit":
            properties["amendments"] = amendments.WIRE_FIELDS
        description = ("Derived by the server from visits; read-only for every client."
                       if entity.derived_only else
                       "Who may write each field is in docs/protocol.md; a field "
                       "marked readOnly is computed or kept by the server.")
        components[name.title()] = _json_schema_patterns(
            {"type": "object", "description": description, "properties": properties})
    # Schemas nested in a record's fields (an account's do-not-visit Window).
    nested = spec.to_dict().get("components", {}).get("schemas", {})
    components.update({k: _json_schema_patterns(v) for k, v in nested.items()})
    return components


# -- attachments (docs/protocol.md 1.1 "Attachments") --------------------------------

# Webhooks and the device report: where the protocol text is silent.
OPERATIONS_CHOICES = (
    "* Webhooks: `occurred_at` is the moment the server wrote the change (its history row), "
    "in UTC. `data` is the record at that `version`, as a supervisor pulls it (with its "
    "conflicts and amendments). A delivery fails on any answer but 2xx (redirects are not "
    "followed), a timeout (10 s) or a refused connection; retries wait 10 s, doubling, up to "
    "1 h, and an event still failing 24 h after it was queued is marked failed (a supervisor "
    "may send it again, same `id`). A failing event holds back later events of the same "
    "record only while it is retried: once failed, later ones go on, so a receiver compares "
    "`version`. Delivery is at least once (a worker stopped after a POST sends it again): "
    "receivers de-duplicate on `id`. Accounts are not sent. An endpoint removed from the "
    "settings gets no new events.\n"
    "* Device report: a pull naming an unknown `Fieldvisit-Client` binds it to the pulling "
    "user, as a first push would; on a push the body's `client_id` wins over the header. "
    "`last_seen_at` may lag a pull by up to 60 s (a quiet pull writes nothing). "
    "`visit.device_clock_offset_min` (read-only, whole minutes, positive when the phone was "
    "fast) is set only beyond the limit, by a push that writes `arrived_at` or "
    "`departed_at`, and kept afterwards unless a later push is further off. Devices of "
    "deactivated users are listed.\n"
)


ATTACHMENT_CHOICES = (
    "* Attachments: `account_id` (the visit's account, its scope), `created_by`, `uploaded`, "
    "`uploaded_at` and `purged_at` are read-only, kept by the server. `byte_size` is checked "
    "against the server's limits when the record is pushed (default 10 MiB per file, 50 MiB "
    "and 20 files per visit; configurable): a record over them is `rejected`, before any byte "
    "is sent. A photo or a signature must be an image type.\n"
    "* A redaction reason needs three letters or digits, and a redacted attachment stays "
    "redacted: its reason is not replaced or cleared. Its bytes are deleted once the "
    "redaction is committed.\n"
    "* Setting `uploaded` is a change of its own: a new version, in the history (reason "
    "\"Content received and verified\") and on the feed.\n"
    "* The content endpoints answer in this order: 401; 413 for a body over 1 MiB (by its "
    "Content-Length, before anything is read); 404 for an unknown id or one the user may not "
    "see (the same answer); 410 once redacted or purged, for PUT and status too, so a phone "
    "stops sending what will never be taken; 200 `uploaded: true` for a chunk of an uploaded "
    "attachment; 400 for a missing or malformed Content-Range (first after last, last past "
    "the total) or a body whose length is not the range's; 413 for a total over the limit; 422 "
    "for a total that is not `byte_size`; 415 for a chunk at byte 0 whose first bytes are not "
    "those of `content_type` (the whole file is checked again when complete, and discarded "
    "with 415 if it fails); 409 for bytes that differ from ones held.\n"
    "* Any Content-Type is accepted for a chunk (`application/octet-stream` is usual).\n"
    "* A status request that finds every byte held but the upload not finished (the server "
    "stopped in between) finishes it and answers `uploaded: true`.\n"
    "* Retention (`FIELDVISIT_ATTACHMENT_RETENTION_DAYS`, off by default) deletes bytes that "
    "many days after they arrived and sets `purged_at` (a new version); the content is then "
    "410 like a redacted one.\n"
    "* GET content honours If-None-Match with the ETag (304)."
)

ATTACHMENT_ID = {"name": "id", "in": "path", "required": True, "schema": UUID}


def attachment_paths() -> dict:
    gone = _error("Redacted by a supervisor, or its content deleted by retention.")
    unknown = _error("No such attachment, or one this user may not see (the same answer).")
    received = {"type": "object", "required": ["received", "uploaded"], "properties": {
        "received": {"type": "integer", "minimum": 0}, "uploaded": {"type": "boolean"}}}
    return {
        "/api/v1/attachments/{id}/content": {
            "put": {
                "operationId": "putAttachmentContent",
                "summary": "Send one chunk (at most 1 MiB) of an attachment's bytes.",
                "description": (
                    "Chunks may be sent again and in any order; bytes that overlap ones held must "
                    "agree (409). When the last missing byte arrives the content's SHA-256 and "
                    "first bytes are checked: a mismatch discards every byte (422, or 415), a match "
                    "sets `uploaded`. See the Choices in the description of this document for the "
                    "order of the answers."),
                "security": [{"bearer": []}],
                "parameters": [ATTACHMENT_ID, {
                    "name": "Content-Range", "in": "header", "required": True,
                    "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
                    "description": "`bytes <first>-<last>/<byte_size>`, inclusive."}],
                "requestBody": {"required": True, "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 1048576}}}},
                "responses": {
                    "200": {"description": "Bytes held now, and whether the file is complete and verified.",
                            "content": {"application/json": {"schema": received}}},
                    **ERRORS_AUTH,
                    "400": _error("No or a malformed Content-Range, or a body of another length."),
                    "404": unknown,
                    "409": _error("These bytes differ from ones already received."),
                    "410": gone,
                    "413": _error("A chunk over 1 MiB, or a total over the server's limit."),
                    "415": _error("The content does not start as its content_type does."),
                    "422": _error("The total is not byte_size, or the SHA-256 did not match "
                                  "(every byte received is discarded)."),
                },
            },
            "get": {
                "operationId": "getAttachmentContent",
                "summary": "The verified bytes, with ETag \"<sha256>\" and Cache-Control: private, no-store.",
                "security": [{"bearer": []}],
                "parameters": [ATTACHMENT_ID],
                "responses": {
                    "200": {"description": "The content, in the attachment's content_type.",
                            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {},
                                        "application/pdf": {}}},
                    "304": {"description": "Not modified (If-None-Match)."},
                    **ERRORS_AUTH,
                    "404": _error("Unknown, not visible, or not uploaded yet."),
                    "410": gone,
                },
            },
        },
        "/api/v1/attachments/{id}/content/status": {"get": {
            "operationId": "getAttachmentContentStatus",
            "summary": "What the server holds of an attachment's bytes, to resume an upload.",
            "security": [{"bearer": []}],
            "parameters": [ATTACHMENT_ID],
            "responses": {
                "200": {"description": "Bytes held, the inclusive ranges still missing, and whether it is uploaded.",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["received", "missing", "uploaded"],
                            "properties": {
                                "received": {"type": "integer", "minimum": 0},
                                "missing": {"type": "array", "items": {
                                    "type": "array", "items": {"type": "integer"},
                                    "minItems": 2, "maxItems": 2}},
                                "uploaded": {"type": "boolean"}}}}}},
                **ERRORS_AUTH, "404": unknown, "410": gone,
            },
        }},
    }


def openapi_document(body_limit: int) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fieldvisit sync API",
            "version": "1.1",
            "description": (
                "Sync protocol version 1 between the collector app (or any outside client) and "
                "the server: login, push with a per-client mutation counter, pull from a cursor, "
                "the day plan and the guidance texts. Every error on /api is JSON of the one "
                "shape `Error`; when several apply the first of 401, 413, 415, 400, 403, 409 "
                f"answers. Bodies larger than {body_limit} bytes get 413. Responses are gzip "
                "compressed when the client sends Accept-Encoding: gzip.\n\n"
                "Choices where the protocol text is silent:\n"
                "* A cursor the server cannot serve for this user — tampered, of another user, "
                "from a recreated database, or ahead of the feed — is 410, never trusted: the "
                "client pulls again from the start and keeps its outbox.\n"
                "* A mutation whose `fields` carries `id` must repeat the mutation's id.\n"
                "* `payment.visit_id` may be null (money handed over outside a visit); when "
                "given it must be a visit of the same account. A recorded payment's amount, "
                "method, time and links never change; a supervisor only moves its `status`.\n"
                "* Unknown and not-assigned records are rejected alike (`account_id`: no account "
                "with this id is assigned to you), so ids cannot be probed. An update "
                "(`base_version` > 0) to a record outside the user's scope gets exactly the "
                "answer an unknown id gets (`base_version`: no such record); a create over "
                "such an id, with everything else valid, is refused on `id`.\n"
                "* Every non-empty `amendment_reason` a client sends needs three letters or "
                "digits (docs/protocol.md 1.1), also on a visit that is not done yet.\n"
                "* NaN, Infinity and numbers beyond a double (1e400) are not JSON: the whole "
                "request is 400 and nothing is applied, so the phone can fix and resend it.\n"
                "* A rejected mutation is kept as sent, except that NUL and unpaired "
                "surrogates become U+FFFD.\n"
                "* When an account changes hands (by push, import or the supervisor pages) its "
                "visits still `planned` move to the new collector; done visits keep theirs.\n"
                "* A supervisor's conflict resolution is a new version of the record even when "
                "it keeps the value that won, so the phones hear of the decision.\n"
                "* A `rejected` result carries `version` only when the record exists and is in "
                "the user's scope.\n"
                "* Concurrent writes of the same value are not conflicts: nothing is lost.\n"
                "* A visit with `met: nobody` cannot have a payment or promise result.\n"
                "* The merge treats a mutation's own earlier writes (same client_id) as "
                "sequential, as the protocol says, even across pushes.\n"
                "* `status: merged` means the record had moved on since `base_version` in "
                "other fields only; `applied` means it had not.\n"
                "* Login failures are limited per user name and client address together "
                "(default: after 5 failures in 15 minutes that address waits 30 s before its "
                "next try, doubling with each further failure) and per address over all user "
                "names (default 20); the same user from another address is not affected. 429 "
                "carries Retry-After in seconds; an attempt refused with 429 is not checked "
                "and not counted.\n"
                "* Request bodies nested deeper than 32 levels are 400. A body (or request "
                "head) sent too slowly for the server's read limits is 408; a chunked body "
                "over the size limit is 413, like one with Content-Length.\n"
                "* Every answer under /api carries `Cache-Control: no-store`.\n"
                "* Choice: a `conflict` result's `conflicts` each carry the conflict's `id` and "
                "`kept_by`/`lost_by`: whose value was kept and whose was set aside, seen from the "
                "pushing device — `this_device`, `my_other_device` (another device of the same "
                "user), `office` (a supervisor, or the server's own writers) or "
                "`other_collector`. A phone words its notice from these, never calling the "
                "value that lost \"yours\" when another device wrote it.\n"
                "* Choice: a pulled account, visit or payment carries `conflicts`, every "
                "conflict of the record with its `id`, both values and whose they are "
                "(relative to the user who pulls: `me`, `office`, `other_collector`, with "
                "`kept_device`/`lost_device` naming the user's own device) and `resolution`. "
                "This is how a phone learns the outcome of a conflict it was told of in a push "
                "result: a supervisor's resolution is a new version of the record, so the record "
                "comes back in the feed, its conflict (matched by `id`) now with `resolution` "
                "`kept` (the value that won stays) or `restored` (the value that lost was "
                "brought back) and `resolved_at`. A record whose conflict was stored is sent "
                "again even when the pushed value lost and nothing else changed.\n"
                "* Choice: a done visit that was corrected carries `amendments`, its amendment "
                "trail read from the history (old and new value of each field, who, when, "
                "why); a value written again unchanged is no amendment.\n"
                "* Choice: `visit.checkin_fix_age_s` (C and S, 0 to 86400, an outcome field) is "
                "the age in seconds of the position fix when the collector checked in, beside "
                "`checkin_accuracy_m`; the phone asks before it records a check-in farther than "
                "`rules.geofence_m` from the account, and may replace a check-in's position "
                "until the visit is done (the earlier one stays in the history).\n"
                # -- account contact restrictions (docs/protocol.md 1.1; docs/rules.md) --
                "* `account.do_not_visit` windows cover `from` up to, not including, `to`; "
                "they are stored and sent with both times in UTC, sorted, each window once; at "
                "most 50 per account, a `reason` of at most 200 characters with at least one "
                "letter or digit, and no keys other than `from`, `to` and `reason`. Each bad "
                "window is named in the `rejected` errors (`Period 2: from must be before to.`).\n"
                "* `do_not_visit` is one field sent whole, but it is merged as a set: when it "
                "changed since the mutation's `base_version` (by another device, or by the same "
                "device's earlier mutation on that base), the server keeps the stored windows, "
                "removes those the writer removed from the list it saw at `base_version`, and "
                "adds those it added. Two devices adding a window each keep both; nothing is "
                "lost, so it is no conflict, and the result is `merged` when windows the writer "
                "had not seen were kept.\n"
                "* A collector may add windows, never remove one (`rejected`); a supervisor "
                "removes them.\n"
                "* `account.jurisdiction` is checked against the assigned ISO 3166-1 alpha-2 "
                "codes. A new account whose writer names none gets the server's "
                "`default_jurisdiction` when it is created; changing the setting later moves no "
                "existing account. Null (accounts from before version 1.1, or cleared by a "
                "supervisor) means the top-level rules.\n"
                "* The pull's `rules` also carries `default_jurisdiction`, `attempts_per` "
                "(`account`: every attempt on the account counts; `person`: only those on the same "
                "person of the debt) and, per jurisdiction, `attempts_per` beside "
                "`contact_hours` and `attempt_limit`. A jurisdiction's entry is complete: values "
                "it does not set itself are the top-level ones, already filled in.\n"
                "* Per person (the US): a done visit counts against the original contact when it "
                "met them or nobody (it sought them), else against the person met, by `met_name` "
                "with case, width and spacing ignored; `attempt_limit_exceeded` counts only the "
                "attempts on the same person as this visit, and the plan's `attempt_limit` those "
                "on the original contact.\n"
                "* Contact hours allow both ends in every jurisdiction (the product's rule), also "
                "where a law's prohibited period begins at the end minute (Japan 21:00, mainland "
                "China 22:00): 21:00:00 is not flagged, 21:00:01 is.\n"
                "* `inside_do_not_visit` is computed when the visit is written, from the "
                "account's windows at that moment: a window added afterwards does not flag a "
                "visit already recorded. The plan's `do_not_visit` warning uses `scheduled_at`.\n"
                "* `visit.met_relation` (`employee`, `family`, `neighbour`, `other`) is an "
                "outcome field (C, and S for corrections; an amendment on a done visit) and may "
                "be set only while `met` is `other_person`; changing `met` away from it needs "
                "`met_relation: null` in the same mutation.\n"
                "* The account import file may add an optional column `jurisdiction` (after the "
                "protocol's columns, which stay as they are): an empty cell gives a new account "
                "the default and leaves a known account's as it is.\n"
                + ATTACHMENT_CHOICES
                + OPERATIONS_CHOICES
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {
                        "type": "object", "required": ["code", "status", "message"],
                        "properties": {
                            "code": {"type": "integer"}, "status": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "object", "additionalProperties": {
                                "type": "array", "items": {"type": "string"}}},
                            "expected_seq": {"type": "integer", "description": "On 409 only."},
                            "retry_after": {"type": "integer", "description": "On 429 only."},
                        },
                    }},
                },
                "User": {"type": "object", "required": ["id", "username", "name", "role"],
                         "properties": {"id": UUID, "username": {"type": "string"},
                                        "name": {"type": "string"},
                                        "role": _enum(("collector", "supervisor"))}},
                "LoginRequest": {"type": "object", "required": ["username", "password"],
                                 "additionalProperties": False,
                                 "description": "No user name or password holds NUL or an unpaired surrogate; such a login is answered 401 like any other failed one.",
                                 "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 64,
                                                             "pattern": STORABLE_TEXT},
                                                "password": {"type": "string", "minLength": 1, "maxLength": 1024,
                                                             "pattern": STORABLE_TEXT}}},
                "LoginResponse": {"type": "object", "required": ["token", "expires_at", "user"],
                                  "properties": {"token": {"type": "string"}, "expires_at": TIME,
                                                 "user": {"$ref": "#/components/schemas/User"}}},
                "Mutation": {
                    "type": "object", "additionalProperties": False,
                    "required": ["seq", "hlc", "entity", "id", "base_version", "fields"],
                    "properties": {
                        "seq": {"type": "integer", "minimum": 1, "maximum": 2**62},
                        "hlc": HLC,
                        "entity": _enum(("account", "visit", "payment", "promise", "attachment")),
                        "id": UUID,
                        "base_version": {"type": "integer", "minimum": 0, "maximum": 2**31},
                        "fields": {"type": "object", "description":
                                   "Only the fields this mutation changes; see the entity schemas "
                                   "for names and types. Field-level problems give a `rejected` "
                                   "result, not a 400."},
                    },
                },
                "PushRequest": {
                    "type": "object", "additionalProperties": False, "required": ["client_id", "mutations"],
                    "properties": {"client_id": UUID, "sent_at": {
                        **TIME, "pattern": "^(19|2[0-9])[0-9]{2}-", "description": "The device's clock when it sent the push "
                        "(docs/protocol.md 1.1); optional, years 1900–2999, otherwise 400."}, "mutations": {
                        "type": "array", "minItems": 1, "maxItems": 500,
                        "items": {"$ref": "#/components/schemas/Mutation"},
                        "description": "Consecutive ascending seqs, otherwise 400."}},
                },
                "Conflict": {"type": "object",
                             "required": ["id", "field", "kept", "lost", "rule", "kept_by", "lost_by"],
                             "properties": {"id": UUID, "field": {"type": "string"}, "kept": {}, "lost": {},
                                            "rule": _enum(("domain_precedence", "last_writer_wins_hlc")),
                                            "kept_by": _enum(PUSH_SIDES), "lost_by": _enum(PUSH_SIDES)}},
                "PushResult": {
                    "type": "object", "required": ["seq", "entity", "id", "status"],
                    "properties": {
                        "seq": {"type": "integer"}, "entity": {"type": "string"}, "id": UUID,
                        "status": _enum(("applied", "merged", "conflict", "duplicate", "rejected")),
                        "version": {"type": "integer"},
                        "conflicts": {"type": "array", "items": {"$ref": "#/components/schemas/Conflict"}},
                        "errors": {"type": "object", "additionalProperties": {
                            "type": "array", "items": {"type": "string"}}},
                    },
                },
                "PushResponse": {"type": "object",
                                 "required": ["last_seq", "server_hlc", "server_time", "results"],
                                 "properties": {"last_seq": {"type": "integer"}, "server_hlc": HLC,
                                                "server_time": TIME,
                                                "results": {"type": "array", "items": {
                                                    "$ref": "#/components/schemas/PushResult"}}}},
                **entity_components(),
                **openapi_devices.COMPONENTS,
                "Change": {
                    "type": "object", "required": ["entity", "id", "version", "deleted", "data"],
                    "properties": {
                        "entity": _enum(("account", "visit", "payment", "promise", "attachment")), "id": UUID,
                        "version": {"type": "integer"}, "deleted": {"type": "boolean"},
                        "data": {"anyOf": [{"$ref": "#/components/schemas/Account"},
                                           {"$ref": "#/components/schemas/Visit"},
                                           {"$ref": "#/components/schemas/Payment"},
                                           {"$ref": "#/components/schemas/Promise"},
                                           {"$ref": "#/components/schemas/Attachment"},
                                           {"type": "null"}]},
                    },
                },
                "Rules": {"type": "object", "required": [
                    "contact_hours", "preferred_windows", "attempt_limit", "geofence_m", "early_margin_minutes"],
                    "properties": {
                        "contact_hours": {"type": "object", "properties": {
                            "start": {"type": "string"}, "end": {"type": "string"}}},
                        "preferred_windows": {"type": "array", "items": {
                            "type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                        "attempt_limit": {"type": "object", "properties": {
                            "max": {"type": "integer"}, "window_days": {"type": "integer"}}},
                        "geofence_m": {"type": "number"}, "early_margin_minutes": {"type": "integer"},
                        "arrived_late_grace_minutes": {
                            "type": "integer", "minimum": 0,
                            "description": "A visit is flagged `arrived_late` only when it arrives more "
                                           "than this many minutes after `scheduled_at`."},
                        "missed_after_minutes": {
                            "type": "integer", "minimum": 0,
                            "description": "A planned visit with no check-in this long after its "
                                           "appointment is shown as missed on the phone."},
                        "attempts_per": _enum(("account", "person")),
                        "default_jurisdiction": {"type": "string", "pattern": "^[A-Z]{2}$"},
                        "jurisdictions": {
                            "type": "object",
                            "description": "docs/protocol.md 1.1: an account's rules are its "
                                           "jurisdiction's entry, else the top-level keys.",
                            "additionalProperties": {"type": "object", "required": [
                                "contact_hours", "attempt_limit"], "properties": {
                                "contact_hours": {"type": "object", "properties": {
                                    "start": {"type": "string"}, "end": {"type": "string"}}},
                                "attempt_limit": {"type": "object", "properties": {
                                    "max": {"type": "integer"},
                                    "window_days": {"type": "integer"}}},
                                "attempts_per": _enum(("account", "person"))}}}}},
                "PullResponse": {
                    "type": "object",
                    "required": ["changes", "cursor", "has_more", "server_hlc", "server_time", "rules"],
                    "properties": {
                        "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                        "cursor": {"type": "string"}, "has_more": {"type": "boolean"},
                        "server_hlc": HLC, "server_time": TIME,
                        "rules": {"$ref": "#/components/schemas/Rules"},
                    },
                },
                "Plan": {
                    "type": "object", "required": ["date", "collector", "stops"],
                    "properties": {
                        "date": DATE, "collector": {"type": "string"},
                        "stops": {"type": "array", "items": {"type": "object", "required": [
                            "visit_id", "account_id", "scheduled_at", "leave_by", "distance_km",
                            "travel_minutes", "warnings"], "properties": {
                            "visit_id": UUID, "account_id": UUID, "scheduled_at": _nullable(TIME),
                            "leave_by": _nullable(TIME), "distance_km": {"type": "number"},
                            "travel_minutes": {"type": "integer"},
                            "warnings": {"type": "array", "items": {"type": "string"}}}}},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/auth/login": {"post": {
                "operationId": "login", "summary": "Log in; get a bearer token.",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/LoginRequest"}}}},
                "responses": {"200": _json("LoginResponse"),
                              "400": _error("Malformed request."),
                              "401": _error("Unknown user or wrong password (the same answer)."),
                              "413": _error("Body too large."), "415": _error("Not JSON."),
                              "429": _error("Too many failed logins; see Retry-After.")},
            }},
            "/api/v1/auth/logout": {"post": {
                "operationId": "logout", "summary": "Revoke the token.",
                "security": [{"bearer": []}],
                "responses": {"204": {"description": "Revoked."}, **ERRORS_AUTH},
            }},
            "/api/v1/auth/me": {"get": {
                "operationId": "me", "summary": "The token's user (Choice: an extra helper).",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"user": {"$ref": "#/components/schemas/User"}}}}}},
                    **ERRORS_AUTH},
            }},
            "/api/v1/sync/push": {"post": {
                "operationId": "push", "summary": "Apply a batch of mutations in one transaction.",
                "security": [{"bearer": []}],
                "parameters": openapi_devices.DEVICE_HEADERS,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/PushRequest"}}}},
                "responses": {
                    "200": _json("PushResponse"), **ERRORS_AUTH,
                    "400": _error("The request does not match the push schema."),
                    "403": _error("The client_id is bound to another user."),
                    "409": _error("Sequence gap; `expected_seq` says which seq must come next."),
                    "413": _error("Body too large."), "415": _error("Not JSON."),
                },
            }},
            "/api/v1/sync/pull": {"get": {
                "operationId": "pull", "summary": "Changes after a cursor, in commit order.",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "cursor", "in": "query", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 1000}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500}},
                    *openapi_devices.DEVICE_HEADERS,
                ],
                "responses": {"200": _json("PullResponse"), **ERRORS_AUTH,
                              "400": _error("Bad limit or unknown parameter."),
                              "410": _error("The cursor can no longer be served: pull from the start.")},
            }},
            "/api/v1/plan": {"get": {
                "operationId": "plan", "summary": "A collector's day in route order.",
                "description": (
                    "Choices: the day is the local date of `scheduled_at` in each account's time "
                    "zone; the plan holds the collector's planned, done and missed visits (not "
                    "cancelled, not undated) on accounts currently assigned to them; times are "
                    "given on the account's clock; `warnings` may also hold `tight_schedule` "
                    "(leave-by falls before the previous visit ends) and `no_position` (the "
                    "account has no coordinates); `outside_contact_hours` and `attempt_limit` "
                    "follow the account's jurisdiction, and `do_not_visit` means `scheduled_at` "
                    "falls inside one of the account's windows. A supervisor must name `collector` (400 "
                    "otherwise); a collector naming anyone else gets 403, whether that user "
                    "exists or not."
                ),
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "date", "in": "query", "required": True,
                     "schema": {**DATE, "pattern": "^(19|2[0-9])[0-9]{2}-"},
                     "description": "A date from 1900-01-01 to 2999-12-31."},
                    {"name": "collector", "in": "query", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                     "description": "A collector's username; required for a supervisor (400 without it)."},
                ],
                "responses": {"200": _json("Plan"), **ERRORS_AUTH,
                              "400": _error("Bad date or parameter."),
                              "403": _error("A collector asked for another collector's plan."),
                              "404": _error("No such collector.")},
            }},
            "/api/v1/guidance": {"get": {
                "operationId": "guidance",
                "summary": "Approaches per delinquency reason and on-site situation, and the conduct rules, in English and Traditional Chinese.",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"type": "object"}}}}, **ERRORS_AUTH},
            }},
            "/api/v1/client-config": {"get": {
                "operationId": "clientConfig",
                "summary": "What the collector app needs besides records: the map's tile server and Leaflet.",
                "description": (
                    "`map.tiles_url` is a `{z}/{x}/{y}` tile template (the server's "
                    "`FIELDVISIT_MAP_TILES_URL`), shown with `map.attribution`; `leaflet_js` and "
                    "`leaflet_css` are paths on this server, versioned, for Leaflet as the "
                    "server ships it. Never writes."
                ),
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["map"], "properties": {"map": {
                        "type": "object",
                        "required": ["tiles_url", "attribution", "max_zoom", "leaflet_js", "leaflet_css"],
                        "properties": {
                            "tiles_url": {"type": "string"}, "attribution": {"type": "string"},
                            "max_zoom": {"type": "integer"}, "leaflet_js": {"type": "string"},
                            "leaflet_css": {"type": "string"}}}}}}}},
                    **ERRORS_AUTH},
            }},
            **attachment_paths(),
            **openapi_devices.device_paths(_error),
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document.",
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"type": "object"}}}}},
            }},
        },
    }
