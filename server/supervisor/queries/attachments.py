"""Attachments as the pages show them: who took each one, when and where,
and how far that was from the account's position."""

from __future__ import annotations

from dataclasses import dataclass

from geopy.distance import geodesic
from sqlalchemy import select

from ...models import Account, Attachment, User, Visit


@dataclass
class AttachmentView:
    attachment: Attachment
    taken_by: User | None
    distance_m: float | None  # from the account's position, when both are known
    visit: Visit | None = None

    @property
    def shows_content(self) -> bool:
        a = self.attachment
        return a.uploaded and not a.redacted_reason and a.purged_at is None

    @property
    def is_image(self) -> bool:
        return self.attachment.content_type.startswith("image/")


def distance_m(attachment: Attachment, account: Account) -> float | None:
    if None in (attachment.lat, attachment.lon, account.lat, account.lon):
        return None
    return geodesic((account.lat, account.lon), (attachment.lat, attachment.lon)).meters


def _views(session, rows, account: Account, visits: dict | None = None) -> list[AttachmentView]:
    user_ids = {a.created_by for a in rows if a.created_by}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    return [AttachmentView(a, users.get(a.created_by), distance_m(a, account),
                           (visits or {}).get(a.visit_id)) for a in rows]


def visit_attachments(session, visit: Visit, account: Account) -> list[AttachmentView]:
    rows = session.scalars(select(Attachment).where(Attachment.visit_id == visit.id)
                           .order_by(Attachment.taken_at, Attachment.created_at)).all()
    return _views(session, rows, account)


def account_attachments(session, account: Account, limit: int = 60) -> list[AttachmentView]:
    rows = session.scalars(select(Attachment).where(Attachment.account_id == account.id)
                           .order_by(Attachment.taken_at.desc(), Attachment.created_at.desc())
                           .limit(limit)).all()
    visit_ids = {a.visit_id for a in rows}
    visits = {v.id: v for v in session.scalars(select(Visit).where(Visit.id.in_(visit_ids)))} \
        if visit_ids else {}
    return _views(session, rows, account, visits)


def attachment_detail(session, attachment_id: str) -> tuple[AttachmentView, Account] | None:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    account = session.get(Account, attachment.account_id)
    view = _views(session, [attachment], account, {attachment.visit_id:
                                                   session.get(Visit, attachment.visit_id)})[0]
    return view, account
