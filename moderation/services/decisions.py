"""The automatic decision on a comment: approve, hold for a moderator, or spam."""
from flask import current_app
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, PENDING, SPAM, Comment
from moderation.services import scorer


def decide(spam, toxicity, limits):
    """Map the two scores to a status with the thresholds in limits."""
    if spam >= limits["spam"]:
        return SPAM
    if spam >= limits["spam_hold"] or toxicity >= limits["toxicity_hold"]:
        return HELD
    return APPROVED


def reasons_for(score, limits):
    """Why the comment got its status, with the spans that pushed each score up."""
    reasons = []
    if score.spam >= limits["spam_hold"]:
        reasons.append({"code": "spam", "score": round(score.spam, 4), "spans": list(score.spam_terms)})
    if score.toxicity >= limits["toxicity_hold"]:
        reasons.append({"code": "toxicity", "score": round(score.toxicity, 4), "spans": list(score.toxicity_terms)})
    return reasons


def score_comment(comment_id):
    """Score a pending comment and store its decision; do nothing if it is gone or decided already."""
    comment = db.session.scalar(select(Comment).where(Comment.id == comment_id).with_for_update())
    if comment is None or comment.status != PENDING:
        db.session.rollback()
        return None
    bundle = scorer.active_bundle(current_app.config["MODELS_DIR"])
    limits = scorer.thresholds(bundle, current_app.config)
    score = bundle.score([comment.text], [comment.name])[0]
    comment.spam_score = float(score.spam)
    comment.toxicity_score = float(score.toxicity)
    comment.status = decide(score.spam, score.toxicity, limits)
    comment.reasons = reasons_for(score, limits)
    comment.model_version = bundle.version
    comment.decided_at = utcnow()
    db.session.commit()
    return comment.status
