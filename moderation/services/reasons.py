"""Reject reasons: the contract's built-in codes and the ones admins add."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from moderation.db import db
from moderation.models import AuditEvent, Comment, Reason

# Built-in codes are created by the migration; their labels are translated here.
BUILTIN_LABELS = {
    "insult": _l("Insult"),
    "obscenity": _l("Obscenity"),
    "threat": _l("Threat"),
    "hate": _l("Hate speech"),
    "off-topic": _l("Off-topic"),
    "other": _l("Other"),
}
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ReasonError(ValueError):
    """A reason cannot be added, changed or deleted as asked; the message names the fault."""


def label_of(reason):
    """The reason's name in the moderator's language."""
    return str(BUILTIN_LABELS[reason.code]) if reason.builtin and reason.code in BUILTIN_LABELS else reason.label


def all_reasons():
    """Every reason, active ones first, in the admins' order."""
    return db.session.scalars(select(Reason).order_by(Reason.active.desc(), Reason.position, Reason.id)).all()


def active_reasons():
    """The reasons a moderator can pick."""
    return db.session.scalars(select(Reason).where(Reason.active.is_(True)).order_by(Reason.position, Reason.id)).all()


def find(code):
    """The active reason with this code, or None."""
    if not code:
        return None
    return db.session.scalar(select(Reason).where(Reason.code == code, Reason.active.is_(True)))


def get(code):
    """The reason with this code, active or not, or None."""
    return db.session.scalar(select(Reason).where(Reason.code == code)) if code else None


def add_reason(code, label, toxic):
    """Add an admin's own reason; `toxic` makes its rejections toxicity labels."""
    code = (code or "").strip().lower()
    label = (label or "").strip()
    if not CODE_PATTERN.match(code):
        raise ReasonError("code")
    if not label or len(label) > 100:
        raise ReasonError("label")
    if db.session.scalar(select(Reason).where(Reason.code == code)) is not None:
        raise ReasonError("exists")
    reason = Reason(code=code, label=label, toxic=bool(toxic), builtin=False, active=True)
    db.session.add(reason)
    db.session.commit()
    return reason


def set_active(reason, active):
    """Offer a reason to moderators, or stop offering it (past decisions keep it)."""
    reason.active = bool(active)
    db.session.commit()


def delete_reason(reason):
    """Delete an admin's own reason that no decision used (ReasonError("kept") otherwise: switch it off instead).

    A built-in reason is part of the API's contract; a used one is named by past decisions and their audit entries.
    """
    used = db.session.scalar(
        select(
            or_(exists().where(Comment.reject_reason == reason.code), exists().where(AuditEvent.reason == reason.code))
        )
    )
    if reason.builtin or used:
        raise ReasonError("kept")
    db.session.delete(reason)
    db.session.commit()
