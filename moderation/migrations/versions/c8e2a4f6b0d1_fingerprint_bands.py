"""Campaign index by bands: each indexed comment's fingerprint as 16 bands (pairs of positions) instead of 32
positions, so that a check reads a few rows instead of every comment sharing a common word.

Self-contained: a band is (band << 56) | the low 56 bits of its two 32-bit words, read from the fingerprint's hex
as scoring/fingerprint.bands reads them; a slot, as the previous revision wrote them.

Revision ID: c8e2a4f6b0d1
Revises: b3d5f7a9c1e2
Create Date: 2026-12-04 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c8e2a4f6b0d1"
down_revision = "b3d5f7a9c1e2"
branch_labels = None
depends_on = None

BATCH = 1000
WORDS = 32  # a fingerprint's positions, 8 hex digits each


def bands(fingerprint):
    if not fingerprint or len(fingerprint) != WORDS * 8:
        return []
    return [(i << 56) | (int(fingerprint[i * 16 : i * 16 + 16], 16) & ((1 << 56) - 1)) for i in range(WORDS // 2)]


def slots(fingerprint):
    if not fingerprint or len(fingerprint) != WORDS * 8:
        return []
    return [(i << 32) | int(fingerprint[i * 8 : i * 8 + 8], 16) for i in range(WORDS)]


def reindex(numbers):
    """Index again the comments the index holds, each with `numbers` of its fingerprint."""
    index = sa.table(
        "fingerprint_slot",
        sa.column("comment_id"),
        sa.column("slot"),
        sa.column("site_id"),
        sa.column("decided_at", sa.DateTime()),
    )
    comment = sa.table("comment", sa.column("id"), sa.column("fingerprint"))
    connection = op.get_bind()
    indexed = (
        sa.select(index.c.comment_id, index.c.site_id, sa.func.min(index.c.decided_at).label("decided_at"))
        .group_by(index.c.comment_id, index.c.site_id)
        .subquery()
    )
    rows = connection.execute(
        sa.select(indexed, comment.c.fingerprint).join(comment, comment.c.id == indexed.c.comment_id)
    ).all()
    connection.execute(index.delete())
    values = [
        {"comment_id": row.comment_id, "slot": number, "site_id": row.site_id, "decided_at": row.decided_at}
        for row in rows
        for number in numbers(row.fingerprint)
    ]
    for start in range(0, len(values), BATCH):
        connection.execute(index.insert(), values[start : start + BATCH])


def upgrade():
    reindex(bands)


def downgrade():
    reindex(slots)
