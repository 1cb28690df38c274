"""Readers' complaints: one row per reader and comment (the reader as a keyed hash), the sites' hide and overdue
settings.

Revision ID: bcb5139da87e
Revises: b7d41f0c9e25
Create Date: 2026-12-03 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "bcb5139da87e"
down_revision = "b7d41f0c9e25"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("reporter_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["app_user.id"], name=op.f("fk_complaint_closed_by_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comment.id"], name=op.f("fk_complaint_comment_id_comment"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_complaint_site_id_site"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("comment_id", "reporter_hash", name=op.f("uq_complaint_comment_id")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_site_open", ["site_id", "closed_at"], unique=False)

    # Existing sites get the defaults: hide an approved comment at three readers, overdue after a day.
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complaints_hide_after", sa.Integer(), server_default="3", nullable=False))
        batch_op.add_column(sa.Column("complaints_overdue_hours", sa.Integer(), server_default="24", nullable=False))


def downgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("complaints_overdue_hours")
        batch_op.drop_column("complaints_hide_after")

    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_site_open")

    op.drop_table("complaint")
