"""Envelope schemas of the wire contract: what a request must look like
before any record is looked at (a mismatch is 400)."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from sync.hlc import HLC_PATTERN

from ..entities import ENTITIES
from ..entities import UUID_VALIDATOR as UUID


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


class PushSchema(StrictSchema):
    client_id = fields.String(required=True, validate=UUID)
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
