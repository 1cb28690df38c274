"""Domain tables: sites that post comments, and the comments with their decisions."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.db import db, utcnow

PENDING, APPROVED, HELD, SPAM, REJECTED = "pending", "approved", "held", "spam", "rejected"
STATUSES = (PENDING, APPROVED, HELD, SPAM, REJECTED)


class Site(db.Model):
    """A website that posts comments with its API key (only the key's hash is stored)."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comments: Mapped[list["Comment"]] = relationship(back_populates="site")

    def __repr__(self):
        return f"<Site {self.id} {self.name!r}>"


class Comment(db.Model):
    """A reader's comment as the site sent it, and the decision taken on it."""

    __tablename__ = "comment"
    __table_args__ = (
        Index("ix_comment_status_queued_at", "status", "queued_at"),
        Index("ix_comment_site_article", "site_id", "article_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    email: Mapped[Optional[str]] = mapped_column(String(254))
    url: Mapped[Optional[str]] = mapped_column(String(2000))
    article_id: Mapped[Optional[str]] = mapped_column(String(200))
    article_url: Mapped[Optional[str]] = mapped_column(String(2000))
    article_title: Mapped[Optional[str]] = mapped_column(String(500))
    parent_id: Mapped[Optional[str]] = mapped_column(String(200))
    author_ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(500))
    referrer: Mapped[Optional[str]] = mapped_column(String(2000))

    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    spam_score: Mapped[Optional[float]]
    toxicity_score: Mapped[Optional[float]]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the id was last handed to the broker; the sweep re-queues comments pending since long before.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[Optional[datetime]]

    site: Mapped[Site] = relationship(back_populates="comments")

    def __repr__(self):
        return f"<Comment {self.id} {self.status}>"
