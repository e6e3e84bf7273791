"""What an entity declares: its one schema, who may write each field, the
fields the server keeps itself, what a new record needs, and its
invariants over the record as it would be after a change.

Invariants are plain functions of a ``Proposal``; the few facts they need
from storage come through ``Lookups``, so this package imports no database
code and each rule can be read (and tested) on its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from marshmallow import Schema

from .. import messages

Errors = dict[str, list[str]]


class Lookups(Protocol):
    """Facts from storage that an invariant may ask for."""

    def user_role(self, user_id: str) -> str | None:
        """The role of an active user, or None."""

    def visit_account(self, visit_id: str) -> str | None:
        """The account of a visit, or None when there is no such visit."""

    def account_with_ref(self, ref: str) -> str | None:
        """The id of the account with this ref, or None."""

    def attachment_limits(self) -> Any:
        """The server's attachment limits (``server/attachments/settings.py``)."""

    def visit_attachments(self, visit_id: str, except_id: str) -> tuple[int, int]:
        """(count, bytes) of the visit's attachments other than ``except_id``."""


@dataclass(frozen=True)
class Proposal:
    """A change as it would land: the values before and after, what it
    sends and what it changes, who writes it and which fields crossed a
    concurrent write (those follow the merge rules, not the writer)."""

    entity: str
    record_id: str
    role: str
    user_id: str | None
    new: bool
    sent: Mapping[str, Any]
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    changes: Mapping[str, Any]
    concurrent: frozenset[str]
    account_timezone: str | None
    lookups: Lookups

    def add(self, errors: Errors, name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)


Invariant = Callable[[Proposal], Errors]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    schema: Schema
    writers: dict[str, frozenset[str]]
    # Computed or server-kept fields sent on the wire beside the writable ones.
    read_only: tuple[str, ...] = ()
    # Stored fields only the server's own code sets (never from the wire),
    # each with the schema field that checks its value.
    kept: Schema | None = None
    required_on_create: tuple[str, ...] = ()
    # Values of a new record that its writer does not send.
    defaults: Callable[[str, str | None, Mapping[str, Any]], dict[str, Any]] = (
        lambda role, user_id, account: {})
    invariants: tuple[Invariant, ...] = field(default_factory=tuple)
    # Only the server derives records of this entity (promises).
    derived_only: bool = False
    # A record without an ``account_id`` of its own names a visit in this
    # field, and belongs to (and is seen with) that visit's account.
    account_via: str | None = None

    def check(self, proposal: Proposal) -> Errors:
        errors: Errors = {}
        if proposal.new:
            for name in self.required_on_create:
                if proposal.after.get(name) is None:
                    proposal.add(errors, name, messages.REQUIRED)
        for invariant in self.invariants:
            for name, found in invariant(proposal).items():
                errors.setdefault(name, []).extend(found)
        return errors
