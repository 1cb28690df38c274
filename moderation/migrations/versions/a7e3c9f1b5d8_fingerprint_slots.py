"""Campaign checks from an index: each decided comment's fingerprint positions as rows of fingerprint_slot.

Comments already fingerprinted get their slots too. Self-contained: a slot is (position << 32) | the position's
32-bit value, read from the fingerprint's hex words as scoring/fingerprint.slots reads them.

Revision ID: a7e3c9f1b5d8
Revises: f1c3a5e7b9d2
Create Date: 2026-12-03 22:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7e3c9f1b5d8"
down_revision = "f1c3a5e7b9d2"
branch_labels = None
depends_on = None

BATCH = 1000
WORDS = 32  # a fingerprint's positions, 8 hex digits each


def slots(fingerprint):
    if not fingerprint or len(fingerprint) != WORDS * 8:
        return []
    return [(i << 32) | int(fingerprint[i * 8 : i * 8 + 8], 16) for i in range(WORDS)]


def upgrade():
    slot = op.create_table(
        "fingerprint_slot",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comment.id"], name=op.f("fk_fingerprint_slot_comment_id_comment"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("comment_id", "slot", name=op.f("pk_fingerprint_slot")),
    )
    comment = sa.table(
        "comment",
        sa.column("id"),
        sa.column("site_id"),
        sa.column("fingerprint"),
        sa.column("created_at", sa.DateTime()),
        sa.column("decided_at", sa.DateTime()),
    )
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = (
            connection.execute(
                sa.select(comment)
                .where(comment.c.id > last_id, comment.c.fingerprint.is_not(None))
                .order_by(comment.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        values = [
            {
                "comment_id": row["id"],
                "slot": number,
                "site_id": row["site_id"],
                "decided_at": row["decided_at"] or row["created_at"],
            }
            for row in rows
            for number in slots(row["fingerprint"])
        ]
        if values:
            connection.execute(slot.insert(), values)
        last_id = rows[-1]["id"]
    op.create_index("ix_fingerprint_slot_lookup", "fingerprint_slot", ["site_id", "slot", "decided_at"], unique=False)


def downgrade():
    op.drop_index("ix_fingerprint_slot_lookup", table_name="fingerprint_slot")
    op.drop_table("fingerprint_slot")
