"""Flood checks from an index: an author's comments by address or e-mail, in the order they came.

The flood rule asks whether the author commented on the site within the last seconds. With indexes on the
address alone and on the e-mail and status, PostgreSQL answered it by walking the site's newest comments
backwards, all of them within the interval: under a burst of comments, thousands per request.

Revision ID: b3d5f7a9c1e2
Revises: a7e3c9f1b5d8
Create Date: 2026-12-04 17:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b3d5f7a9c1e2"
down_revision = "a7e3c9f1b5d8"
branch_labels = None
depends_on = None


def upgrade():
    # The new indexes first: dropping an index locks the table on PostgreSQL until the migration commits.
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_author_ip_created", ["author_ip", "created_at"])
        # An author's record (their comments by status) is still read from the index alone on PostgreSQL.
        batch_op.create_index("ix_comment_email_created", ["email", "created_at"], postgresql_include=["status"])
        batch_op.drop_index("ix_comment_author_ip")
        batch_op.drop_index("ix_comment_email_status")


def downgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_email_created")
        batch_op.drop_index("ix_comment_author_ip_created")
        batch_op.create_index("ix_comment_email_status", ["email", "status"])
        batch_op.create_index("ix_comment_author_ip", ["author_ip"])
