"""The facts the site's rules judge by (links, the author's history, campaigns) and the campaigns' index.

They are read before scoring (pipeline/context.py); the phases in pipeline/ judge by them.
"""

from datetime import timedelta

from sqlalchemy import DateTime, bindparam, delete, func, literal, select, text, union_all, update

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, Comment, FingerprintSlot
from moderation.scoring import fingerprint
from moderation.scoring.normalise import ADDRESS_OR_LINK_RE, URL_TOKEN
from moderation.services import audit, status, webhooks
from moderation.services.hold_reasons import CAMPAIGN, Reason, with_code

SEVERITY = {APPROVED: 0, HELD: 1, SPAM: 2}
PREMODERATION_MODES = ("none", "first", "links", "all")
CAMPAIGN_SCAN = 5000  # earlier comments of one campaign held with a new one, at most


def stricter(a, b):
    """The stricter of two decisions."""
    return a if SEVERITY[a] >= SEVERITY[b] else b


def count_links(comment):
    """Links in the comment's text (the author's website field is not one; nor is an e-mail address)."""
    return sum(1 for m in ADDRESS_OR_LINK_RE.finditer(comment.text or "") if not m.group(1))


def without_links(text):
    """The text with the links `count_links` counts taken out, and the link placeholder the model would see."""
    return ADDRESS_OR_LINK_RE.sub(lambda m: m.group(1) or " ", text or "").replace(URL_TOKEN, " ")


def author_of(comment, site_id):
    """Who wrote the comment, as the rules tell authors apart: the site, the lower-cased name and the e-mail
    address, or the IP address when the form asks no e-mail (None: neither, an author nobody can recognise).

    The name is part of it because nobody checks an e-mail address: a troll who borrows a regular
    reader's address under another name does not borrow their trust.
    """
    name = (comment.name or "").strip().lower()
    if comment.email:
        return site_id, name, "email", comment.email
    if comment.author_ip:
        return site_id, name, "ip", comment.author_ip
    return None


def author_histories(authors):
    """{author: (approved, rejected or spam)} counts of earlier comments by these authors (`author_of`), in one
    statement. A pending comment is no one's history, so the authors' comments being decided are not counted."""
    authors = {author for author in authors if author is not None}
    if not authors:
        return {}
    wanted = {kind: {author[3] for author in authors if author[2] == kind} for kind in ("email", "ip")}
    names = {author[1] for author in authors}
    branches = [_history_of(kind, values, names) for kind, values in wanted.items() if values]
    counts = {author: [0, 0] for author in authors}
    for site_id, name, kind, value, decided, count in db.session.execute(union_all(*branches)):
        if (author := (site_id, name, kind, value)) in counts:  # and not the same author on another site
            counts[author][decided != APPROVED] += count
    return {author: tuple(count) for author, count in counts.items()}


_BY = {"email": Comment.email, "ip": Comment.author_ip}


def _history_of(kind, values, names):
    """The decided comments with one of these values of this kind (e-mail or address) and names, counted by site,
    name, value and status. Sought by the value only, its index's column: with the site in the condition too,
    SQLite walked every comment of the site instead, calling lower() on each."""
    column, name = _BY[kind], func.lower(Comment.name)
    return (
        select(Comment.site_id, name, literal(kind), column, Comment.status, func.count())
        .where(column.in_(values), name.in_(names), Comment.status.in_((APPROVED, REJECTED, SPAM)))
        .group_by(Comment.site_id, name, column, Comment.status)
    )


def similar_comments(comment, site_id, signature, config):
    """Earlier comments on the site within the window that carry the same message (rows of id, name and
    campaign_id, newest first): those sharing a band of the fingerprint (the index) whose whole fingerprints are
    SIMILAR."""
    return similar_comments_of([(comment, site_id, signature)], config)[0]


def similar_comments_of(items, config):
    """similar_comments of several comments, each (comment, site id, signature), in two statements for them all:
    the index rows of their bands, then the comments those rows name."""
    wanted = [(comment, site_id, signature, fingerprint.bands(signature)) for comment, site_id, signature in items]
    keys = {(site_id, band) for _comment, site_id, _signature, bands in wanted for band in bands}
    if not keys:
        return [[] for _item in items]
    since = utcnow() - timedelta(hours=config["CAMPAIGN_HOURS"])
    sharing = {}
    for site_id, band, comment_id in db.session.execute(
        _BAND_ROWS,
        {"sites": sorted({k[0] for k in keys}), "bands": sorted({k[1] for k in keys}), "since": since},
    ):
        sharing.setdefault((site_id, band), set()).add(comment_id)
    ids = set().union(*sharing.values()) if sharing else set()
    found = db.session.execute(_CANDIDATES, {"ids": sorted(ids), "since": since}).all() if ids else []
    rows = {row.id: row for row in found}
    similar = []
    for comment, site_id, signature, bands in wanted:
        near = set().union(*(sharing.get((site_id, band), ()) for band in bands)) - {comment.id}
        candidates = sorted((rows[i] for i in near if i in rows), key=lambda row: row.id, reverse=True)
        scores = fingerprint.similarities(signature, [row.fingerprint for row in candidates])
        similar.append([row for row, score in zip(candidates, scores) if score >= fingerprint.SIMILAR][:CAMPAIGN_SCAN])
    return similar


# Built once: a worker runs them for every batch, and building them cost more than running them.
# The lists of our own integers (sites, bands, ids) are written into the statement: a bound parameter for each of a
# batch's hundreds of bands cost the compiler and the driver twice what the database spent (in process, 2.3 ms of CPU
# against 1.0 ms for a batch of 14 comments' bands on PostgreSQL).
_BAND_ROWS = select(FingerprintSlot.site_id, FingerprintSlot.slot, FingerprintSlot.comment_id).where(
    FingerprintSlot.site_id.in_(bindparam("sites", expanding=True, literal_execute=True)),
    FingerprintSlot.slot.in_(bindparam("bands", expanding=True, literal_execute=True)),
    FingerprintSlot.decided_at >= bindparam("since"),
)
_CANDIDATES = select(Comment.id, Comment.name, Comment.campaign_id, Comment.fingerprint).where(
    Comment.id.in_(bindparam("ids", expanding=True, literal_execute=True)), Comment.created_at >= bindparam("since")
)


def campaign_of(similar, name, config):
    """The similar comments (`similar_comments`) as a campaign, if enough different authors sent them with this
    one; else []. Different names: one person repeating themselves is a duplicate or a flood, not a campaign."""
    names = {(row.name or "").strip().lower() for row in similar} | {(name or "").strip().lower()}
    return similar if len(names) >= config["CAMPAIGN_SIZE"] else []


def campaign_members(comment, site_id, signature, config):
    """Earlier comments on the site within the window that carry the same message, if enough authors sent it."""
    return campaign_of(similar_comments(comment, site_id, signature, config), comment.name, config)


def index_fingerprints(decided, decided_at):
    """Index decided comments' fingerprints, each (comment id, site id, signature), for later campaign checks, in
    the caller's transaction."""
    rows = [
        # The numbers written in (our own integers, never text from outside): bound, the 16 rows of each comment
        # cost the driver and the compiler more than the database. The time, the same for all, is bound once: a
        # placeholder in each row cost the driver three times the rest (2.6 ms of CPU for a batch of 14 comments).
        f"({int(comment_id)}, {int(band)}, {int(site_id)})"
        for comment_id, site_id, signature in decided
        for band in fingerprint.bands(signature)
    ]
    if rows:
        db.session.execute(
            text(
                "INSERT INTO fingerprint_slot (comment_id, slot, site_id, decided_at)"
                f" SELECT column1, column2, column3, :decided_at FROM (VALUES {', '.join(rows)}) AS slots"
            ).bindparams(bindparam("decided_at", type_=DateTime)),
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
