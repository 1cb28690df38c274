"""Retrain jobs: an admin's retrain from the moderators' decisions, its progress and held-out metrics.

Revision ID: 7c3e91a2d4f0
Revises: 537138f14b48
Create Date: 2026-11-25 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c3e91a2d4f0"
down_revision = "537138f14b48"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "retrain_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message", sa.String(length=500), server_default="", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("strategy", sa.String(length=16), server_default="adapter", nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("active_slot", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_retrain_job_created_by_id_app_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrain_job")),
        sa.UniqueConstraint("active_slot", name=op.f("uq_retrain_job_active_slot")),
    )
    with op.batch_alter_table("retrain_job", schema=None) as batch_op:
        batch_op.create_index("ix_retrain_job_status", ["status", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("retrain_job", schema=None) as batch_op:
        batch_op.drop_index("ix_retrain_job_status")

    op.drop_table("retrain_job")
