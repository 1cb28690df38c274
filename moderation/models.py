"""Domain tables: sites, comments and their decisions, the people who moderate them, and what they did."""

import hashlib
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.db import db, utcnow

PENDING, APPROVED, HELD, SPAM, REJECTED = "pending", "approved", "held", "spam", "rejected"
STATUSES = (PENDING, APPROVED, HELD, SPAM, REJECTED)
MODERATOR, ADMIN = "moderator", "admin"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases; bigger numbers make queries fail


def session_mark(password_hash):
    """A short digest of the password hash, stored in sessions; it reveals nothing of the hash."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def parse_id(raw):
    """A row id from user input (ASCII digits, 1..MAX_ID), or None."""
    raw = str(raw or "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ID else None


ROLES = (MODERATOR, ADMIN)


class Site(db.Model):
    """A website that posts comments with its API key (only the key's hash is stored)."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's hash in lower case: older Akismet clients send the key as a host name, which arrives lowered.
    key_host_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # IANA zone the newsroom reads times in; Kazakhstan is one zone (UTC+5) since 2024.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Almaty", server_default="Asia/Almaty")
    # Rules admins set per site (see services/rules.py).
    max_links: Mapped[int] = mapped_column(default=2, server_default="2")  # more links than this: held
    premoderation: Mapped[str] = mapped_column(String(8), default="none", server_default="none")  # all|first|links
    shadow_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flood_seconds: Mapped[int] = mapped_column(default=15, server_default="15")
    # Readers' complaints (services/complaints.py): an approved comment this many readers report is held
    # (0: never), and a complaint open longer than this many hours is overdue.
    complaints_hide_after: Mapped[int] = mapped_column(default=3, server_default="3")
    complaints_overdue_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    # Hold budget (services/budget.py): the share of comments, or the number a day, the moderators can
    # review; None both: the model's thresholds. The thresholds last derived from the site's comments.
    hold_budget_percent: Mapped[float | None]
    hold_budget_per_day: Mapped[int | None]
    budget_state: Mapped[dict | None] = mapped_column(JSON)
    # Spot checks (services/spot_checks.py): this percentage of the filter's approvals is also reviewed.
    spot_check_percent: Mapped[float] = mapped_column(default=1.0, server_default="1")
    # Learning on its own (services/learning.py): retrain the site's adapter after this many new decisions
    # (0: never), make it the site's own version when it is better (if allowed), and when it was last queued.
    auto_retrain_after: Mapped[int] = mapped_column(default=200, server_default="200")
    auto_promote: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    model_version: Mapped[str | None] = mapped_column(String(64))  # None: the active version decides
    retrained_at: Mapped[datetime | None]
    # Signed webhooks (services/webhooks.py): where the site hears of decisions, and the key that signs them
    # (the site must verify signatures with it, so it is kept as it is, like the app's own secret key).
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    # Coral Talk's external moderation phase (compat/coral.py): the signing secret Coral made for the phase,
    # kept as it is because each request's signature is checked with it.
    coral_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comments: Mapped[list["Comment"]] = relationship(back_populates="site")

    def __repr__(self):
        return f"<Site {self.id} {self.name!r}>"


def _known(column):
    """A partial index's condition: the rows where this column has a value, on either database."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class Comment(db.Model):
    """A reader's comment as the site sent it, and the decision taken on it."""

    __tablename__ = "comment"
    __table_args__ = (
        Index("ix_comment_status_queued_at", "status", "queued_at"),
        Index("ix_comment_site_article", "site_id", "article_id", "status"),
        # The moderation queue: riskiest first, or oldest first, within a status.
        Index("ix_comment_status_risk", "status", "risk", "id"),
        Index("ix_comment_status_created", "status", "created_at", "id"),
        # An author's comments by e-mail or address, newest last: their record, bans, the flood rule. Only those
        # with one: the others, one key, made SQLite's statistics call a search by e-mail a walk of the table.
        Index("ix_comment_by_email", "email", "created_at", postgresql_include=["status"], **_known("email")),
        Index("ix_comment_by_address", "author_ip", "created_at", **_known("author_ip")),
        Index("ix_comment_site_created", "site_id", "created_at"),
        Index("ix_comment_created", "created_at"),  # statistics over every site
        Index("ix_comment_spot_check", "spot_check", "spot_verdict", "id"),  # spot checks waiting, and done
        # One comment per author, article and text a site posts: the second is a duplicate (409), even at once.
        Index("ix_comment_site_dedupe", "site_id", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    url: Mapped[str | None] = mapped_column(String(2000))
    article_id: Mapped[str | None] = mapped_column(String(200))
    article_url: Mapped[str | None] = mapped_column(String(2000))
    article_title: Mapped[str | None] = mapped_column(String(500))
    parent_id: Mapped[str | None] = mapped_column(String(200))
    author_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(2000))

    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    spam_score: Mapped[float | None]
    toxicity_score: Mapped[float | None]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[str | None] = mapped_column(String(64))
    # max(spam, toxicity): the queue's "riskiest first" order, indexed with the status.
    risk: Mapped[float] = mapped_column(default=0.0, server_default="0")
    # " spam toxicity ": the reasons' codes, space-delimited, so the queue can filter with LIKE everywhere.
    reason_codes: Mapped[str] = mapped_column(String(200), default="", server_default="")
    lang: Mapped[str] = mapped_column(String(8), default="", server_default="")  # guessed: ru, kk, en
    fingerprint: Mapped[str | None] = mapped_column(String(256))  # MinHash, to find campaigns
    campaign_id: Mapped[int | None] = mapped_column(index=True)  # the first comment of its campaign
    # SHA-256 of article, author and text (intake.dedupe_key) for comments a site posts; None for those the
    # drop-in APIs store, whose clients may send a text twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    # In shadow mode every comment is held; this keeps what the filter would have decided.
    filter_status: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(String(40))
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    moderated_at: Mapped[datetime | None]
    # Drawn at random among the filter's approvals for a moderator to check; the verdict once checked:
    # "ok", "toxic", "spam" or "other" (rejected for a reason that is not toxicity).
    spot_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    spot_verdict: Mapped[str | None] = mapped_column(String(8))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the id was last handed to the broker; the sweep re-queues comments pending since long before.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(back_populates="comments")
    moderated_by: Mapped[Optional["User"]] = relationship()

    def __repr__(self):
        return f"<Comment {self.id} {self.status}>"


class FingerprintSlot(db.Model):
    """One band of a decided comment's MinHash fingerprint (scoring/fingerprint.bands) in `slot`, indexed so that
    the campaign check finds the site's recent comments sharing one without reading every fingerprint."""

    __tablename__ = "fingerprint_slot"
    __table_args__ = (Index("ix_fingerprint_slot_lookup", "site_id", "slot", "decided_at"),)

    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    site_id: Mapped[int]
    # When the comment was decided, never before it was created: a window on it holds the window on creation.
    decided_at: Mapped[datetime]


class Complaint(db.Model):
    """A reader's complaint about a comment; the reader is kept only as a keyed hash, to count them once."""

    __tablename__ = "complaint"
    __table_args__ = (
        # One reader counts once per comment, even when two of their complaints arrive together.
        UniqueConstraint("comment_id", "reporter_hash"),
        Index("ix_complaint_site_open", "site_id", "closed_at"),  # a site's open complaints
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    reporter_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the site and the reader, hex
    reason: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the moderator's decision on the comment, in the same transaction.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    decision: Mapped[str | None] = mapped_column(String(16))  # the comment's status the decision set

    comment: Mapped[Comment] = relationship()

    def __repr__(self):
        return f"<Complaint {self.id} on {self.comment_id} {self.reason}>"


class User(UserMixin, db.Model):
    """A moderator or an admin of the dashboard; the password is stored as a salted hash."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=MODERATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    @property
    def is_active(self):
        return self.active

    @property
    def is_admin(self):
        return self.role == ADMIN

    def get_id(self):
        """The session's user id, tied to the password: changing the password signs out every session."""
        return f"{self.id}.{session_mark(self.password_hash)}"

    def __repr__(self):
        return f"<User {self.login} {self.role}>"


class ApiToken(db.Model):
    """A moderator's token for the moderate API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A dashboard sign-in: the signed cookie names it by a random id (only its hash is kept) until it ends."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # looked up on every dashboard request
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most every few minutes; a session idle longer than SESSION_HOURS has expired.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]  # signed out, password changed or account disabled

    user: Mapped[User] = relationship()


class Reason(db.Model):
    """Why a comment is rejected; toxicity reasons become toxic training labels."""

    __tablename__ = "reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100))  # shown for admins' own reasons; built-ins are translated
    toxic: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=100, server_default="100")


class AuditEvent(db.Model):
    """One thing a person did: a decision on a comment, a ban, an admin change. Never edited but for `undone`."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_comment", "comment_id", "id"),
        Index("ix_audit_event_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))
    # Actions taken together (a bulk action) share a batch, so that one undo reverts them all.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
    via: Mapped[str] = mapped_column(String(16), default="dashboard")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    undone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User | None] = relationship()
    comment: Mapped[Comment | None] = relationship()


class Label(db.Model):
    """A moderator's judgement of a comment as training data; a later decision replaces an earlier one."""

    __tablename__ = "label"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    spam: Mapped[bool] = mapped_column(Boolean)
    toxic: Mapped[bool | None] = mapped_column(Boolean)  # None: the decision says nothing about toxicity
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment] = relationship()


class Ban(db.Model):
    """An author whose comments go to spam unscored: an e-mail address, an IP or an IP range."""

    __tablename__ = "ban"
    __table_args__ = (Index("ix_ban_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "email" or "ip" (an address or a CIDR range)
    value: Mapped[str] = mapped_column(String(254))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))  # None: every site
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]  # None: until lifted


class Setting(db.Model):
    """A value admins change in the dashboard (thresholds...); read on every decision, so no restart is needed."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class WordEntry(db.Model):
    """A word-list entry of a site: "block" sends a comment to spam, "watch" holds it for a moderator."""

    __tablename__ = "word_entry"
    __table_args__ = (Index("ix_word_entry_site_kind_text", "site_id", "kind", "text", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "block" or "watch"
    text: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


RETRAIN_QUEUED, RETRAIN_RUNNING, RETRAIN_DONE, RETRAIN_FAILED = "queued", "running", "done", "failed"
RETRAIN_STATUSES = (RETRAIN_QUEUED, RETRAIN_RUNNING, RETRAIN_DONE, RETRAIN_FAILED)


class RetrainJob(db.Model):
    """An admin's retrain from the moderators' decisions: its progress, the version it made and how it compares."""

    __tablename__ = "retrain_job"
    __table_args__ = (Index("ix_retrain_job_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=RETRAIN_QUEUED)
    progress: Mapped[int] = mapped_column(default=0, server_default="0")  # 0..100
    message: Mapped[str] = mapped_column(String(500), default="", server_default="")  # the current step
    error: Mapped[str | None] = mapped_column(Text)
    strategy: Mapped[str] = mapped_column(String(16), default="adapter", server_default="adapter")
    version: Mapped[str | None] = mapped_column(String(64))  # the new model version, once written
    # The site whose decisions alone it learns from, for that site alone; None: every site's, for the install.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # held-out comparison with the active version
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # Written with every progress step: a running job whose heartbeat stops (a killed worker) is failed.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # 1 while queued or running, NULL once finished: its unique index lets only one job be under way.
    active_slot: Mapped[int | None] = mapped_column(unique=True)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self):
        return f"<RetrainJob {self.id} {self.status} {self.progress}%>"


DELIVERY_PENDING, DELIVERY_DELIVERED, DELIVERY_FAILED = "pending", "delivered", "failed"


class WebhookDelivery(db.Model):
    """An event for a site's webhook: written in the transaction of the change it tells of (the outbox),
    then delivered, retried with backoff for up to a day, and kept as the site's delivery log."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),  # what the beat sends next
        Index("ix_webhook_delivery_site", "site_id", "id"),  # a site's delivery log, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(32), unique=True)  # X-Moderation-Delivery: the same on retries
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_code: Mapped[int | None]  # the endpoint's HTTP status, None when it could not be reached
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]

    def __repr__(self):
        return f"<WebhookDelivery {self.id} {self.event} {self.status}>"
