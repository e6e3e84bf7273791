"""Envelope schemas of the wire contract: what a request must look like
before any record is looked at (a mismatch is 400)."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from sync.hlc import HLC_PATTERN

from .. import messages
from ..entities import ENTITIES, checking, in_year_range
from ..entities import UUID_VALIDATOR as UUID
from ..entities.fields import MAX_YEAR, MIN_YEAR


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class LoginSchema(StrictSchema):
    # NUL and lone surrogates are not refused here: no user can have them,
    # so the login view answers them as any unknown user (401).
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class MutationSchema(StrictSchema):
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**62))
    hlc = fields.String(required=True, validate=validate.Regexp(
        HLC_PATTERN, error="Not an HLC of the form <13-digit ms>:<4 hex digits>:<node>."))
    entity = fields.String(required=True, validate=validate.OneOf(sorted(ENTITIES)))
    id = fields.String(required=True, validate=UUID)
    base_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**31))
    fields_ = fields.Dict(required=True, data_key="fields", keys=fields.String())


def _in_years(value) -> None:
    if not in_year_range(value):
        raise ValidationError(messages.YEAR_OUT_OF_RANGE.format(min_year=MIN_YEAR, max_year=MAX_YEAR))


class PushSchema(StrictSchema):
    client_id = fields.String(required=True, validate=UUID)
    # The phone's clock when it sent the push (docs/protocol.md 1.1 "Device clock").
    sent_at = fields.AwareDateTime(validate=lambda value: _in_years(value))
    mutations = fields.List(fields.Nested(MutationSchema), required=True,
                            validate=validate.Length(min=1, max=500))

    @validates_schema
    def consecutive_seqs(self, data, **kwargs):
        seqs = [m["seq"] for m in data.get("mutations", [])]
        if any(b != a + 1 for a, b in zip(seqs, seqs[1:], strict=False)):
            raise ValidationError("The mutations' seqs must be consecutive and ascending.",
                                  field_name="mutations")


class PullQuerySchema(StrictSchema):
    cursor = fields.String(validate=validate.Length(min=1, max=1000))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


# -- the push body, checked once and cheaply -----------------------------------

_PUSH = PushSchema()
_MUTATION = MutationSchema()
_MUTATION_KEYS = {f.data_key or name: name for name, f in _MUTATION.fields.items()}
_MUTATION_CHECKS = {key: checking.checker(_MUTATION.fields[name], name)
                    for key, name in _MUTATION_KEYS.items() if name != "fields_"}
_CLIENT_ID = checking.checker(_PUSH.fields["client_id"], "client_id")
_SENT_AT = checking.checker(_PUSH.fields["sent_at"], "sent_at")


class _Irregular(Exception):
    pass


def load_push(payload: dict) -> dict:
    """``PushSchema().load(payload)``: the same data for a well-formed push,
    the same ValidationError otherwise. A push of 500 mutations through the
    nested schema cost a tenth of the whole request, so the common case is
    checked field by field (``server/entities/checking.py``) and anything
    irregular goes to the schema itself for its exact messages."""
    try:
        return _load_push_fast(payload)
    except (_Irregular, ValidationError):
        return _PUSH.load(payload)


_ENVELOPE_KEYS = ({"client_id", "mutations"}, {"client_id", "mutations", "sent_at"})


def _load_push_fast(payload: dict) -> dict:
    if payload.keys() not in _ENVELOPE_KEYS:
        raise _Irregular
    mutations = payload["mutations"]
    if type(mutations) is not list or not 1 <= len(mutations) <= 500:
        raise _Irregular
    loaded = []
    previous = None
    for raw in mutations:
        if type(raw) is not dict or raw.keys() != _MUTATION_KEYS.keys():
            raise _Irregular
        fields_ = raw["fields"]
        if type(fields_) is not dict or any(type(k) is not str for k in fields_):
            raise _Irregular
        item = {name: check(raw[name]) for name, check in _MUTATION_CHECKS.items()}
        item["fields_"] = fields_
        if previous is not None and item["seq"] != previous + 1:
            raise _Irregular
        previous = item["seq"]
        loaded.append(item)
    loaded_push = {"client_id": _CLIENT_ID(payload["client_id"]), "mutations": loaded}
    if "sent_at" in payload:
        loaded_push["sent_at"] = _SENT_AT(payload["sent_at"])
    return loaded_push
