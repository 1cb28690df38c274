"""The automatic decision on a comment: approve, hold for a moderator, or spam."""
import logging

from flask import current_app
from sqlalchemy import update

from moderation.db import db, utcnow
from moderation.models import HELD, PENDING, SPAM, Comment
from moderation.scoring import decide
from moderation.scoring.language import guess_language
from moderation.services import bans, scorer, settings

log = logging.getLogger(__name__)


def reasons_for(score, limits):
    """Why the comment got its status, with the spans that pushed each score up."""
    reasons = []
    if score.spam >= limits["spam_hold"]:
        reasons.append({"code": "spam", "score": round(score.spam, 4), "spans": list(score.spam_terms)})
    if score.toxicity >= limits["toxicity_hold"]:
        reasons.append({"code": "toxicity", "score": round(score.toxicity, 4), "spans": list(score.toxicity_terms)})
    return reasons


def codes_of(reasons):
    """The reasons' codes as the queue filters them: space-delimited, with spaces around."""
    return f" {' '.join(r['code'] for r in reasons)} " if reasons else ""


def _store_if_pending(comment_id, **values):
    """Write a decision only if the comment is still pending: duplicates and moderators win races."""
    values["reason_codes"] = codes_of(values.get("reasons"))
    result = db.session.execute(
        update(Comment).where(Comment.id == comment_id, Comment.status == PENDING).values(decided_at=utcnow(), **values)
    )
    db.session.commit()
    return result.rowcount == 1


def score_comment(comment_id):
    """Score a pending comment and store its decision; return the status, or None if nothing changed."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != PENDING:
        return None
    ban = bans.ban_for(comment.site_id, comment.email, comment.author_ip)
    lang = guess_language(comment.text)
    if ban is not None:
        reason = {"code": "banned", "score": None, "spans": [], "ban": {"kind": ban.kind, "value": ban.value}}
        return SPAM if _store_if_pending(comment_id, status=SPAM, risk=1.0, reasons=[reason], lang=lang) else None
    text, name = comment.text, comment.name
    overrides = settings.threshold_overrides()
    db.session.rollback()  # hold no transaction (and no lock) while the model works
    bundle = scorer.active_bundle(current_app.config["MODELS_DIR"])
    limits = scorer.thresholds(bundle, current_app.config, overrides)
    score = bundle.score([text], [name])[0]
    status = decide(score.spam, score.toxicity, limits)
    stored = _store_if_pending(
        comment_id, status=status, spam_score=float(score.spam), toxicity_score=float(score.toxicity),
        risk=float(max(score.spam, score.toxicity)), reasons=reasons_for(score, limits), model_version=bundle.version,
        lang=lang,
    )
    return status if stored else None


def hold_after_error(comment_id, error):
    """Hand a comment that cannot be scored to the moderators instead of leaving it pending forever."""
    log.error("comment %s could not be scored, holding it: %s", comment_id, error)
    db.session.rollback()
    reason = {"code": "error", "score": None, "spans": [], "message": str(error)[:500]}
    return _store_if_pending(comment_id, status=HELD, reasons=[reason])
