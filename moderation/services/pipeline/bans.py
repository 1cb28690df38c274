"""Bans: a banned author's comment is spam, unscored, and the judging ends there."""

from moderation.models import SPAM
from moderation.services.hold_reasons import BANNED, Reason

from .context import Outcome


def check(ctx):
    """Spam when the author's e-mail or address is banned."""
    if ctx.ban is None:
        return None
    reason = Reason(BANNED, facts={"ban": {"kind": ctx.ban.kind, "value": ctx.ban.value}})
    return Outcome(SPAM, [reason], {"risk": 1.0}, final=True)
