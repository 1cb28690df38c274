"""Fast intake: each posted comment's duplicate key (article, author and text), unique per site.

Comments already stored get it too, the oldest of each group of duplicates alone, as intake found them.

Revision ID: f1c3a5e7b9d2
Revises: e4a7c2d9b1f3
Create Date: 2026-12-03 19:10:00.000000

"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f1c3a5e7b9d2"
down_revision = "e4a7c2d9b1f3"
branch_labels = None
depends_on = None

BATCH = 1000


def dedupe_key(fields):
    """The duplicate key as intake computed it at this revision (frozen: a later intake must not change it)."""
    author = ["email", fields["email"]] if fields.get("email") else ["name", fields["name"], fields.get("author_ip")]
    identity = json.dumps([fields.get("article_id") or None, *author, fields["text"]], ensure_ascii=False)
    return hashlib.sha256(identity.encode()).hexdigest()


def upgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
    comment = sa.table(
        "comment",
        *(
            sa.column(name)
            for name in ("id", "site_id", "name", "text", "email", "article_id", "author_ip", "dedupe_key")
        ),
    )
    connection = op.get_bind()
    seen, last_id = set(), 0
    while True:
        rows = (
            connection.execute(sa.select(comment).where(comment.c.id > last_id).order_by(comment.c.id).limit(BATCH))
            .mappings()
            .all()
        )
        if not rows:
            break
        for row in rows:
            key = dedupe_key(row)
            if (row["site_id"], key) not in seen:
                seen.add((row["site_id"], key))
                connection.execute(comment.update().where(comment.c.id == row["id"]).values(dedupe_key=key))
        last_id = rows[-1]["id"]
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_site_dedupe", ["site_id", "dedupe_key"], unique=True)


def downgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_site_dedupe")
        batch_op.drop_column("dedupe_key")
