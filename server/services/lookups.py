"""Facts an entity's invariants ask of storage (``entities.Lookups``),
answered inside a writing transaction (``changes.ChangeWriter``)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from ..models import Account, Attachment, User, Visit


class StoreLookups:
    def __init__(self, tx):
        self._tx = tx
        self._roles: dict[str, str | None] = {}

    def user_role(self, user_id: str) -> str | None:
        if user_id not in self._roles:
            user = self._tx.session.get(User, user_id)
            self._roles[user_id] = user.role if user is not None and user.active else None
        return self._roles[user_id]

    def visit_account(self, visit_id: str) -> str | None:
        visit = self._tx.get(Visit, visit_id)
        return visit.account_id if visit is not None else None

    def account_with_ref(self, ref: str) -> str | None:
        # ``query`` writes what the transaction has pending first, so an
        # account created or renamed earlier in it is found too.
        return self._tx.query(select(Account.id).where(Account.ref == ref)).scalar()

    def attachment_limits(self):
        from ..attachments.settings import settings_of

        return settings_of(current_app)

    def visit_attachments(self, visit_id: str, except_id: str) -> tuple[int, int]:
        # ``query`` writes what the transaction has pending first, so the
        # attachments of this same push count too.
        count, total = self._tx.query(
            select(func.count(), func.coalesce(func.sum(Attachment.byte_size), 0))
            .where(Attachment.visit_id == visit_id, Attachment.id != except_id)).one()
        return int(count), int(total)
