"""The protocol's entities: which fields exist, their wire types, which
role may write each one ("C" collector, "S" supervisor in docs/protocol.md) and
the invariants every change to a record must keep.

One marshmallow schema per entity both validates a change's fields and
dumps a record to the wire, so the two can never disagree. The rules of an
entity live in its module here; ``server/services/writes.py`` applies them
to every change, whoever makes it."""

from __future__ import annotations

from . import account, attachment, payment, promise, visit
from .account import ACCOUNT_STATUSES, DELINQUENCY_REASONS
from .fields import (
    BOTH,
    COLLECTOR,
    MAX_YEAR,
    MIN_YEAR,
    NOBODY,
    SUPERVISOR,
    UUID_VALIDATOR,
    C,
    S,
    in_year_range,
    is_known_timezone,
    is_record_id,
    is_storable,
    storable_copy,
    visible_characters,
)
from .payment import PAYMENT_METHODS, PAYMENT_STATUSES
from .promise import PROMISE_STATUSES
from .spec import EntitySpec, Errors, Lookups, Proposal
from .visit import MET_VALUES, OUTCOME_FIELDS, PLAN_FIELDS, VISIT_RESULTS, VISIT_STATUSES

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec for spec in (account.SPEC, visit.SPEC, payment.SPEC, promise.SPEC,
                                 attachment.SPEC)
}

__all__ = [
    "ACCOUNT_STATUSES", "BOTH", "C", "COLLECTOR", "DELINQUENCY_REASONS", "ENTITIES",
    "EntitySpec", "Errors", "Lookups", "MAX_YEAR", "MET_VALUES", "MIN_YEAR", "NOBODY",
    "OUTCOME_FIELDS", "PAYMENT_METHODS", "PAYMENT_STATUSES", "PLAN_FIELDS",
    "PROMISE_STATUSES", "Proposal", "S", "SUPERVISOR", "UUID_VALIDATOR", "VISIT_RESULTS",
    "VISIT_STATUSES", "in_year_range", "is_known_timezone", "is_record_id", "is_storable", "storable_copy",
    "visible_characters",
]
