"""The automatic decision on a comment: approve, hold for a moderator, or spam."""
import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from moderation.db import db, end_transaction_keeping, utcnow
from moderation.models import APPROVED, HELD, PENDING, SPAM, Comment, Site
from moderation.scoring import decide
from moderation.scoring import fingerprint
from moderation.scoring.language import guess_language
from moderation.services import (bans, budget, complaints, rules, scorer, settings, spot_checks, status, webhooks,
                                 wordlists)

log = logging.getLogger(__name__)


def reasons_for(score, limits):
    """Why the comment got its status, with the spans that pushed each score up."""
    reasons = []
    if score.spam >= limits["spam_hold"]:
        reasons.append({"code": "spam", "score": round(score.spam, 4), "spans": list(score.spam_terms)})
    if score.toxicity >= limits["toxicity_hold"]:
        reasons.append({"code": "toxicity", "score": round(score.toxicity, 4), "spans": list(score.toxicity_terms)})
    return reasons


def with_word_lists(status, listed):
    """The stricter of the models' decision and the word lists': a block entry means spam, a watch entry held."""
    ruled = SPAM if any(r["code"] == "blocklist" for r in listed) else HELD if listed else APPROVED
    return rules.stricter(ruled, status)


def codes_of(reasons):
    """The reasons' codes as the queue filters them: space-delimited, with spaces around."""
    return f" {' '.join(r['code'] for r in reasons)} " if reasons else ""


def _store_if_pending(comment_id, target=None, **values):
    """Write a decision only if the comment is still pending: duplicates and moderators win races.

    Its audit entry and the site's `comment.decided` event are written in the same transaction (status.change),
    the event handed to a worker after it. `target` is (site id, article id, webhook URL) when the caller has
    them; else they are looked up.
    """
    reasons, to = values.get("reasons") or [], values.pop("status")
    values.update(reason_codes=codes_of(reasons), decided_at=utcnow())
    if target is None:
        target = db.session.execute(select(Comment.site_id, Comment.article_id, Site.webhook_url)
                                    .join(Site, Site.id == Comment.site_id).where(Comment.id == comment_id)).first()
        if target is None:  # deleted meanwhile
            db.session.rollback()
            return False
    site_id, article_id, webhook_url = target
    result = status.change(status.Ref(comment_id, site_id, article_id, webhook_url is not None), to, status.FILTER,
                           via="worker", expected=PENDING, values=values,
                           detail={"reasons": [r["code"] for r in reasons]})
    if result.changed:
        rules.index_fingerprint(comment_id, site_id, values.get("fingerprint"), values["decided_at"])
    db.session.commit()
    if not result.changed:
        return False
    log.info("comment %s decided: %s", comment_id, to)  # one line per decision, to count them
    webhooks.send_soon([result.delivery])
    return True


def links_alone(status, bundle, text, name, facts, limits):
    """(status, spam score without the links): a spam verdict that rests on the links alone is a hold.

    Links are not spam evidence by themselves: a reader citing sources must reach a moderator, not the spam
    folder. Only a spam verdict on a comment with links pays for the second, unexplained scoring.
    """
    if status != SPAM or not facts.links:
        return status, None
    bare = bundle.score([rules.without_links(text)], [name], explain=False)[0]
    if bare.spam >= limits["spam"]:
        return status, None
    return HELD, float(bare.spam)


@dataclass
class Verdict:
    """What the filter decides on a comment, and why: the values stored with the decision."""

    status: str
    values: dict = field(default_factory=dict)
    campaign: list = field(default_factory=list)  # earlier comments of the same campaign to hold too


def assess(comment, site, config):
    """Decide on a comment, stored or not (the admins' «test a comment» box passes an unsaved one).

    Order: bans (spam, unscored), word lists, models (the site's own version if it has one; a spam verdict
    that rests on the links alone is a hold; the site's hold budget sets the thresholds), then the site's
    rules (links, campaigns, pre-moderation, trusted authors; trust overrides the models' hold, never a
    word list's).
    Ends the session's transaction before scoring.
    """
    lang, signature = guess_language(comment.text), fingerprint.signature(comment.text)
    ban = bans.ban_for(site.id, comment.email, comment.author_ip)
    if ban is not None:
        reason = {"code": "banned", "score": None, "spans": [], "ban": {"kind": ban.kind, "value": ban.value}}
        return Verdict(SPAM, {"risk": 1.0, "reasons": [reason], "lang": lang, "fingerprint": signature})
    text, name = comment.text, comment.name
    listed = wordlists.hits_in(wordlists.entries_of(site.id),
                               {"name": name, "email": comment.email, "url": comment.url, "text": text})
    facts = rules.gather(comment, site.id, signature, config)
    overrides, site_version = settings.threshold_overrides(), site.model_version
    budget_state, site_budget = site.budget_state, budget.budget_of(site)
    end_transaction_keeping(site)  # hold no transaction (and no lock) while the model works
    bundle = scorer.bundle_for(config["MODELS_DIR"], site_version)
    limits = scorer.thresholds(bundle, config, overrides, budget.in_force(budget_state, bundle.version, site_budget))
    score = bundle.score([text], [name])[0]
    risk = float(max(score.spam, score.toxicity))
    status, spam_without_links = links_alone(decide(score.spam, score.toxicity, limits), bundle, text, name,
                                             facts, limits)
    # Trust softens only the models' hold: the word lists come after it, so a watch entry still holds.
    status, ruled = rules.apply(status, risk, facts, site, config, spam_without_links)
    status = with_word_lists(status, listed)
    campaign = next((r for r in ruled if r["code"] == "campaign"), None)
    return Verdict(status, {
        "spam_score": float(score.spam), "toxicity_score": float(score.toxicity), "risk": risk,
        "reasons": listed + reasons_for(score, limits) + ruled, "model_version": bundle.version, "lang": lang,
        "fingerprint": signature, "campaign_id": campaign["campaign_id"] if campaign else None,
    }, facts.campaign if campaign else [])


def score_comment(comment_id):
    """Score a pending comment and store its decision; return the status, or None if nothing changed."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != PENDING:
        return None
    site, article_id = comment.site, comment.article_id
    return store_verdict(comment_id, site, article_id, assess(comment, site, current_app.config))


def store_verdict(comment_id, site, article_id, verdict, fresh=False):
    """Store the filter's verdict on a pending comment (and hold its campaign); return the status, or None if a
    moderator or another worker decided it first. Commits. A `fresh` comment (stored in this very transaction)
    has no readers' complaints to count."""
    if not fresh:
        held_for_reports(comment_id, site, verdict)
    stored = _decide(comment_id, site, article_id, verdict.status, **verdict.values)
    if stored and verdict.campaign:
        reason = next(r for r in verdict.values["reasons"] if r["code"] == "campaign")
        rules.hold_campaign(verdict.campaign, reason["campaign_id"], reason["size"])
    return stored


def held_for_reports(comment_id, site, verdict):
    """Hold an approval of a comment that enough readers reported while it was pending, as a complaint would.

    A complaint holds only an approved comment, so one filed before the decision must be counted here.
    """
    threshold = site.complaints_hide_after
    if verdict.status != APPROVED or threshold <= 0:
        return False
    count = complaints.reporters(comment_id, only_open=True)
    if count < threshold:
        return False
    verdict.status = HELD
    verdict.values["reasons"] = [*verdict.values.get("reasons", []),
                                 {"code": complaints.REASON_CODE, "score": None, "spans": [], "count": count}]
    return True


def _decide(comment_id, site, article_id, status, **values):
    """Store the decision; in shadow mode hold it, keeping what the filter decided. Return the stored status.

    An approval may be drawn for a spot check (services/spot_checks.py).
    """
    if status == APPROVED and not site.shadow_mode and spot_checks.draw(site):
        values["spot_check"] = True
    if site.shadow_mode:
        values["filter_status"] = status
        values["reasons"] = [*values.get("reasons", []), {"code": "shadow", "score": None, "spans": [],
                                                          "decision": status}]
        status = HELD
    target = (site.id, article_id, site.webhook_url)  # the site's row is loaded already: no lookups
    return status if _store_if_pending(comment_id, target, status=status, **values) else None


def hold_after_error(comment_id, error):
    """Hand a comment that cannot be scored to the moderators instead of leaving it pending forever."""
    log.error("comment %s could not be scored, holding it: %s", comment_id, error)
    db.session.rollback()
    reason = {"code": "error", "score": None, "spans": [], "message": str(error)[:500]}
    return _store_if_pending(comment_id, status=HELD, reasons=[reason])
