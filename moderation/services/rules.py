"""The facts the site's rules judge by (links, the author's history, campaigns) and the campaigns' index.

They are read before scoring (pipeline/context.py); the phases in pipeline/ judge by them.
"""

from datetime import timedelta

from sqlalchemy import DateTime, bindparam, delete, func, select, text, update

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Comment, FingerprintSlot
from moderation.scoring import fingerprint
from moderation.scoring.normalise import URL_RE, URL_TOKEN
from moderation.services import audit, status, webhooks
from moderation.services.hold_reasons import CAMPAIGN, Reason, with_code

SEVERITY = {APPROVED: 0, HELD: 1, SPAM: 2}
PREMODERATION_MODES = ("none", "first", "links", "all")
CAMPAIGN_SCAN = 5000  # earlier comments of one campaign held with a new one, at most


def stricter(a, b):
    """The stricter of two decisions."""
    return a if SEVERITY[a] >= SEVERITY[b] else b


def count_links(comment):
    """Links in the comment's text (the author's website field is not one)."""
    return len(URL_RE.findall(comment.text or ""))


def without_links(text):
    """The text with the links `count_links` counts taken out, and the link placeholder the model would see."""
    return URL_RE.sub(" ", text or "").replace(URL_TOKEN, " ")


def same_author(comment):
    """Conditions for the comment's author: e-mail and name, or name and IP when the form asks no e-mail.

    The name is part of it because nobody checks an e-mail address: a troll who borrows a regular
    reader's address under another name does not borrow their trust.
    """
    name = func.lower(Comment.name) == (comment.name or "").strip().lower()
    if comment.email:
        return [Comment.email == comment.email, name]
    if comment.author_ip:
        return [Comment.author_ip == comment.author_ip, name]
    return None


def author_history(comment, site_id):
    """(approved, rejected or spam) counts of the author's earlier comments on the site."""
    author = same_author(comment)
    if author is None:
        return 0, 0
    rows = db.session.execute(
        select(Comment.status, func.count())
        .where(
            Comment.site_id == site_id,
            *author,
            Comment.id != (comment.id or 0),
            Comment.status.in_((APPROVED, REJECTED, SPAM)),
        )
        .group_by(Comment.status)
    ).all()
    counts = dict(rows)
    return counts.get(APPROVED, 0), counts.get(REJECTED, 0) + counts.get(SPAM, 0)


def campaign_members(comment, site_id, signature, config):
    """Earlier comments on the site within the window that carry the same message, if enough authors sent it.

    The fingerprints' slots find them from the index: the comments sharing at least MIN_SHARED slots with this
    one are those whose fingerprints are SIMILAR.
    """
    slots = fingerprint.slots(signature)
    if not slots:
        return []
    since = utcnow() - timedelta(hours=config["CAMPAIGN_HOURS"])
    shared = (
        select(FingerprintSlot.comment_id)
        .where(
            FingerprintSlot.site_id == site_id,
            FingerprintSlot.slot.in_(slots),
            FingerprintSlot.decided_at >= since,
            FingerprintSlot.comment_id != (comment.id or 0),
        )
        .group_by(FingerprintSlot.comment_id)
        .having(func.count() >= fingerprint.MIN_SHARED)
    )
    similar = db.session.execute(
        select(Comment.id, Comment.name, Comment.campaign_id)
        .where(Comment.id.in_(shared), Comment.created_at >= since)
        .order_by(Comment.id.desc())
        .limit(CAMPAIGN_SCAN)
    ).all()
    # Different names: one person repeating themselves is a duplicate or a flood, not a campaign.
    names = {(row.name or "").strip().lower() for row in similar} | {(comment.name or "").strip().lower()}
    return similar if len(names) >= config["CAMPAIGN_SIZE"] else []


def index_fingerprint(comment_id, site_id, signature, decided_at):
    """Index a decided comment's fingerprint for later campaign checks, in the caller's transaction."""
    slots = fingerprint.slots(signature)
    if slots:
        # One statement with the numbers written in (our own integers, never text from outside): bound, the 32 rows
        # cost the driver and the compiler more than the database.
        rows = ", ".join(f"({int(comment_id)}, {int(slot)}, {int(site_id)}, :decided_at)" for slot in slots)
        db.session.execute(
            text(f"INSERT INTO fingerprint_slot (comment_id, slot, site_id, decided_at) VALUES {rows}").bindparams(
                bindparam("decided_at", type_=DateTime)
            ),
            {"decided_at": decided_at},
        )


def forget_fingerprints(hours):
    """Drop the index rows of comments decided before the campaign window, which no check reads again; return
    how many went."""
    before = utcnow() - timedelta(hours=hours)
    gone = db.session.execute(delete(FingerprintSlot).where(FingerprintSlot.decided_at < before))
    db.session.commit()
    return gone.rowcount


def hold_campaign(members, campaign_id, size):
    """Group the campaign's earlier comments and hold those the filter approved; a moderator's (or the site's)
    approval stands.

    Each change is conditional (status.change), so a moderator deciding a member meanwhile wins, and each
    comment taken back from the site is written to the audit log.
    """
    reason = Reason(CAMPAIGN, facts={"campaign_id": campaign_id, "size": size}).as_dict()
    ids, events = [member.id for member in members], []
    db.session.execute(
        update(Comment).where(Comment.id.in_(ids), Comment.campaign_id.is_(None)).values(campaign_id=campaign_id)
    )
    for comment in db.session.scalars(
        select(Comment).where(Comment.id.in_(ids), Comment.status == APPROVED, Comment.moderated_at.is_(None))
    ).all():
        values = {
            "reasons": [*(comment.reasons or []), reason],
            "reason_codes": with_code(comment.reason_codes, CAMPAIGN),
        }
        events.append(
            status.change(
                comment,
                HELD,
                audit.CAMPAIGN_HOLD,
                via="worker",
                expected=APPROVED,
                when=(Comment.moderated_at.is_(None),),
                values=values,
                detail={"campaign_id": campaign_id},
                by="filter",
            ).delivery
        )
    db.session.commit()
    webhooks.send_soon(events)
