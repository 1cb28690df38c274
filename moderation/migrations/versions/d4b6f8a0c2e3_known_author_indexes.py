"""An author's comments by e-mail or address from indexes of the comments that have one.

Comments without an e-mail (a form that asks none) or without an address were all one key of the author
indexes. SQLite's statistics (ANALYZE) then told its planner that a search by e-mail finds most of the table,
so it walked the site's comments instead, for an author's record and for the flood rule. Every query these
indexes serve asks for a given e-mail or address, so the comments without one need not be in them.

Revision ID: d4b6f8a0c2e3
Revises: c8e2a4f6b0d1
Create Date: 2026-12-04 21:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4b6f8a0c2e3"
down_revision = "c8e2a4f6b0d1"
branch_labels = None
depends_on = None


def known(column):
    where = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade():
    # The new indexes first: dropping an index locks the table on PostgreSQL until the migration commits.
    op.create_index(
        "ix_comment_by_email", "comment", ["email", "created_at"], postgresql_include=["status"], **known("email")
    )
    op.create_index("ix_comment_by_address", "comment", ["author_ip", "created_at"], **known("author_ip"))
    op.drop_index("ix_comment_email_created", table_name="comment")
    op.drop_index("ix_comment_author_ip_created", table_name="comment")


def downgrade():
    op.create_index("ix_comment_author_ip_created", "comment", ["author_ip", "created_at"])
    op.create_index("ix_comment_email_created", "comment", ["email", "created_at"], postgresql_include=["status"])
    op.drop_index("ix_comment_by_address", table_name="comment")
    op.drop_index("ix_comment_by_email", table_name="comment")
