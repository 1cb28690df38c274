"""Rules applied around the models: links, trusted authors, pre-moderation, campaigns, shadow mode.

Bans and word lists come first (see decisions.py); these facts are gathered before scoring and
combined with the models' decision after it.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Comment
from moderation.scoring.fingerprint import SIMILAR, similarity
from moderation.scoring.normalise import URL_RE

SEVERITY = {APPROVED: 0, HELD: 1, SPAM: 2}
PREMODERATION_MODES = ("none", "first", "links", "all")
CAMPAIGN_SCAN = 5000  # recent comments compared against a new one, at most


@dataclass
class Facts:
    """What the rules need to know about a comment and its author, gathered before scoring."""

    links: int = 0
    approved_before: int = 0  # the author's approved comments on this site
    refused_before: int = 0  # ... and rejected or spam ones
    campaign: list = field(default_factory=list)  # earlier comments of the same message by other authors


def stricter(a, b):
    """The stricter of two decisions."""
    return a if SEVERITY[a] >= SEVERITY[b] else b


def count_links(comment):
    """Links in the comment's text (the author's website field is not one)."""
    return len(URL_RE.findall(comment.text or ""))


def author_history(comment, site_id):
    """(approved, rejected or spam) counts of the author's earlier comments on the site, by e-mail."""
    if not comment.email:
        return 0, 0
    rows = db.session.execute(
        select(Comment.status, func.count()).where(Comment.site_id == site_id, Comment.email == comment.email,
                                                   Comment.id != (comment.id or 0),
                                                   Comment.status.in_((APPROVED, REJECTED, SPAM)))
        .group_by(Comment.status)
    ).all()
    counts = dict(rows)
    return counts.get(APPROVED, 0), counts.get(REJECTED, 0) + counts.get(SPAM, 0)


def _author(comment):
    return (comment.email or "", (comment.name or "").strip().lower(), comment.author_ip or "")


def campaign_members(comment, site_id, signature, config):
    """Earlier comments on the site within the window that carry the same message, if enough authors sent it."""
    if signature is None:
        return []
    since = utcnow() - timedelta(hours=config["CAMPAIGN_HOURS"])
    recent = db.session.scalars(
        select(Comment).where(Comment.site_id == site_id, Comment.created_at >= since,
                              Comment.id != (comment.id or 0), Comment.fingerprint.is_not(None))
        .order_by(Comment.id.desc()).limit(CAMPAIGN_SCAN)
    ).all()
    similar = [c for c in recent if similarity(signature, c.fingerprint) >= SIMILAR]
    authors = {_author(c) for c in similar} | {_author(comment)}
    # Distinct in every way: another name, another address; the same person repeating is a duplicate.
    names = {a[1] for a in authors}
    return similar if len(names) >= config["CAMPAIGN_SIZE"] else []


def gather(comment, site_id, signature, config):
    """The facts the rules need, read before the model runs."""
    approved, refused = author_history(comment, site_id)
    return Facts(links=count_links(comment), approved_before=approved, refused_before=refused,
                 campaign=campaign_members(comment, site_id, signature, config))


def apply(status, risk, facts, site, config):
    """The decision after the rules, and the reasons they add."""
    reasons = []
    if facts.links > site.max_links:
        status = stricter(status, HELD)
        reasons.append({"code": "links", "score": None, "spans": [], "count": facts.links})
    if facts.campaign:
        status = stricter(status, HELD)
        reasons.append({"code": "campaign", "score": None, "spans": [],
                        "campaign_id": min(c.id for c in facts.campaign), "size": len(facts.campaign) + 1})
    premoderated = (site.premoderation == "all"
                    or (site.premoderation == "first" and not facts.approved_before)
                    or (site.premoderation == "links" and facts.links > 0))
    if premoderated:
        status = stricter(status, HELD)
        reasons.append({"code": "premoderation", "score": None, "spans": [], "mode": site.premoderation})
    trusted = facts.approved_before > 0 and facts.refused_before == 0
    if trusted and status == HELD and not reasons and risk < config["TRUSTED_MAX_SCORE"]:
        status = APPROVED
        reasons.append({"code": "trusted", "score": None, "spans": [], "approved": facts.approved_before})
    return status, reasons


def hold_campaign(members, campaign_id, size):
    """Hold the campaign's earlier comments too; a moderator's approval stands."""
    reason = {"code": "campaign", "score": None, "spans": [], "campaign_id": campaign_id, "size": size}
    for member in members:
        member.campaign_id = campaign_id
        if member.status == APPROVED and member.moderated_by_id is None:
            member.status = HELD
            member.reasons = [*(member.reasons or []), reason]
            member.reason_codes = f"{member.reason_codes or ' '}campaign "
    db.session.commit()
