"""The OpenAPI 3.1 document of sync protocol v1 (``GET /api/v1/openapi.json``).

Where PROTOCOL.md is silent this document records the choice made, in the
``description`` of the operation or schema concerned (look for "Choice:")."""

from __future__ import annotations

from ..entities import (
    ACCOUNT_STATUSES,
    DELINQUENCY_REASONS,
    MET_VALUES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    PROMISE_STATUSES,
    VISIT_RESULTS,
    VISIT_STATUSES,
)

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

ACCOUNT_FIELDS = {
    "ref": {"type": "string"}, "customer_name": {"type": "string"},
    "original_contact_name": _nullable({"type": "string"}),
    "original_contact_role": _nullable({"type": "string"}),
    "original_contact_phone": _nullable({"type": "string"}),
    "address": _nullable({"type": "string"}), "address_notes": _nullable({"type": "string"}),
    "lat": _nullable({"type": "number"}), "lon": _nullable({"type": "number"}),
    "timezone": {"type": "string", "description": "IANA time zone name."},
    "currency": {"type": "string", "description": "ISO 4217 code."},
    "principal": MONEY, "amount_due": MONEY, "due_since": _nullable(DATE),
    "assigned_collector_id": _nullable(UUID), "status": _enum(ACCOUNT_STATUSES),
    "delinquency_reason": _nullable(_enum(DELINQUENCY_REASONS)), "notes": _nullable({"type": "string"}),
}
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
VISIT_FIELDS = {
    "account_id": UUID, "collector_id": _nullable(UUID), "scheduled_at": _nullable(TIME),
    "status": _enum(VISIT_STATUSES), "plan_notes": _nullable({"type": "string"}),
    "arrived_at": _nullable(TIME), "departed_at": _nullable(TIME),
    "checkin_lat": _nullable({"type": "number"}), "checkin_lon": _nullable({"type": "number"}),
    "checkin_accuracy_m": _nullable({"type": "number"}),
    "met": _nullable(_enum(MET_VALUES)), "met_name": _nullable({"type": "string"}),
    "redirected_to": _nullable({"type": "string"}), "other_guests_present": _nullable({"type": "boolean"}),
    "waited_minutes": _nullable({"type": "integer"}),
    "delinquency_reason": _nullable(_enum(DELINQUENCY_REASONS)),
    "result": _nullable(_enum(VISIT_RESULTS)), "promise_amount": _nullable(MONEY),
    "promise_date": _nullable(DATE), "notes": _nullable({"type": "string"}),
    "conduct_confirmed": _nullable({"type": "boolean"}), "amendment_reason": _nullable({"type": "string"}),
}
PAYMENT_FIELDS = {
    "account_id": UUID, "visit_id": _nullable(UUID), "amount": MONEY,
    "method": _enum(PAYMENT_METHODS), "collected_at": TIME, "notes": _nullable({"type": "string"}),
    "status": _enum(PAYMENT_STATUSES),
}
PROMISE_FIELDS = {
    "account_id": UUID, "visit_id": UUID, "amount": MONEY, "promise_date": DATE,
    "status": _enum(PROMISE_STATUSES), "collector_id": _nullable(UUID), "made_at": _nullable(TIME),
}
COMMON = {"id": UUID, "version": {"type": "integer"}, "updated_at": _nullable(TIME)}


def _record(fields: dict, extra: dict | None = None) -> dict:
    return {"type": "object", "properties": {**COMMON, **fields, **(extra or {})}}


def openapi_document(body_limit: int) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fieldvisit sync API",
            "version": "1",
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
                "with this id is assigned to you), so ids cannot be probed.\n"
                "* A `rejected` result carries `version` only when the record exists and is in "
                "the user's scope.\n"
                "* Concurrent writes of the same value are not conflicts: nothing is lost.\n"
                "* A visit with `met: nobody` cannot have a payment or promise result.\n"
                "* The merge treats a mutation's own earlier writes (same client_id) as "
                "sequential, as the protocol says, even across pushes.\n"
                "* `status: merged` means the record had moved on since `base_version` in "
                "other fields only; `applied` means it had not.\n"
                "* Login failures are limited per user name (default 5 in 15 minutes) and per "
                "address; 429 carries Retry-After in seconds."
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
                        "entity": _enum(("account", "visit", "payment", "promise")),
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
                    "properties": {"client_id": UUID, "mutations": {
                        "type": "array", "minItems": 1, "maxItems": 500,
                        "items": {"$ref": "#/components/schemas/Mutation"},
                        "description": "Consecutive ascending seqs, otherwise 400."}},
                },
                "Conflict": {"type": "object", "required": ["field", "kept", "lost", "rule"],
                             "properties": {"field": {"type": "string"}, "kept": {}, "lost": {},
                                            "rule": _enum(("domain_precedence", "last_writer_wins_hlc"))}},
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
                "PushResponse": {"type": "object", "required": ["last_seq", "server_hlc", "results"],
                                 "properties": {"last_seq": {"type": "integer"}, "server_hlc": HLC,
                                                "results": {"type": "array", "items": {
                                                    "$ref": "#/components/schemas/PushResult"}}}},
                "Account": _record(ACCOUNT_FIELDS, ACCOUNT_COMPUTED),
                "Visit": _record(VISIT_FIELDS, {"flags": {"type": "array", "items": _enum((
                    "outside_contact_hours", "far_from_site", "arrived_late", "not_original_contact",
                    "attempt_limit_exceeded", "same_slot_repeat"))}}),
                "Payment": _record(PAYMENT_FIELDS, {"collector_id": _nullable(UUID),
                                                    "review_note": _nullable({"type": "string"})}),
                "Promise": _record(PROMISE_FIELDS),
                "Change": {
                    "type": "object", "required": ["entity", "id", "version", "deleted", "data"],
                    "properties": {
                        "entity": _enum(("account", "visit", "payment", "promise")), "id": UUID,
                        "version": {"type": "integer"}, "deleted": {"type": "boolean"},
                        "data": {"anyOf": [{"$ref": "#/components/schemas/Account"},
                                           {"$ref": "#/components/schemas/Visit"},
                                           {"$ref": "#/components/schemas/Payment"},
                                           {"$ref": "#/components/schemas/Promise"},
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
                                           "appointment is shown as missed on the phone."}}},
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
                    "account has no coordinates). A supervisor must name `collector` (400 "
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
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document.",
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"type": "object"}}}}},
            }},
        },
    }
