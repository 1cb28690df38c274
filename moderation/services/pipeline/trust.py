"""Trusted authors: one with approved comments and none refused is not held for the models' doubts alone.

Trust withdraws the models' hold only, below TRUSTED_MAX_SCORE, and only when no site rule holds the comment;
it never softens spam or a word list.
"""

from moderation.models import APPROVED, HELD
from moderation.services.hold_reasons import TRUSTED, Reason

from .context import Outcome

# Holds trust does not outweigh, by phase; the word lists' hold stays whatever trust says (their phase is not
# withdrawn), and does not keep the author's trust from being recorded.
RULE_PHASES = ("links", "campaigns", "premoderation")


def check(ctx):
    """Approved (withdrawing the models' hold) for a trusted author whose comment only the models hold."""
    trusted = ctx.approved_before > 0 and ctx.refused_before == 0
    if not trusted or ctx.held_by.get("models") != HELD or ctx.risk >= ctx.config["TRUSTED_MAX_SCORE"]:
        return None
    if any(name in ctx.held_by for name in RULE_PHASES):
        return None
    return Outcome(APPROVED, [Reason(TRUSTED, facts={"approved": ctx.approved_before})], withdraw=("models",))
