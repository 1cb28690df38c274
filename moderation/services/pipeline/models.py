"""The models: spam and toxicity scores against the site's thresholds.

A spam verdict that rests on the links alone is a hold: links are not spam evidence by themselves, and a
reader citing sources must reach a moderator, not the spam folder (the links phase says why).
"""

from moderation.models import HELD, SPAM
from moderation.scoring import decide
from moderation.services import rules
from moderation.services.hold_reasons import SPAM as SPAM_REASON
from moderation.services.hold_reasons import TOXICITY, Reason

from .context import Outcome


def check(ctx):
    """The models' status and the reasons for the scores over their hold thresholds (scored now unless read_all
    scored the comment already)."""
    comment, bundle, limits = ctx.comment, ctx.bundle, ctx.limits
    score = ctx.score or bundle.score([comment.text or ""], [comment.name], docs=[ctx.normalised])[0]
    ctx.score, ctx.risk = score, float(max(score.spam, score.toxicity))
    status = decide(score.spam, score.toxicity, limits)
    if status == SPAM and ctx.links:
        # Only a spam verdict on a comment with links pays for this second, unexplained scoring.
        bare = bundle.score([rules.without_links(comment.text)], [comment.name], explain=False)[0]
        if bare.spam < limits["spam"]:
            status, ctx.spam_without_links = HELD, float(bare.spam)
    return Outcome(
        status,
        reasons_for(score, limits),
        {
            "spam_score": float(score.spam),
            "toxicity_score": float(score.toxicity),
            "risk": ctx.risk,
            "model_version": bundle.version,
        },
    )


def reasons_for(score, limits):
    """Why the scores hold the comment, with the spans that pushed each score up."""
    reasons = []
    if score.spam >= limits["spam_hold"]:
        reasons.append(Reason(SPAM_REASON, round(score.spam, 4), tuple(score.spam_terms)))
    if score.toxicity >= limits["toxicity_hold"]:
        reasons.append(Reason(TOXICITY, round(score.toxicity, 4), tuple(score.toxicity_terms)))
    return reasons
