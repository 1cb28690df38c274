"""Sites learning on their own: automatic retrain settings, the site's own model version, site retrain jobs.

Revision ID: 9b1e5d2c7a64
Revises: 4f2a9c7e1d3b
Create Date: 2026-12-03 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9b1e5d2c7a64"
down_revision = "4f2a9c7e1d3b"
branch_labels = None
depends_on = None


def upgrade():
    # Existing sites do not start retraining on their own at the upgrade (0: an admin turns it on); new sites
    # retrain after 200 new decisions.
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_retrain_after", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("auto_promote", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("model_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("retrained_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.alter_column("auto_retrain_after", existing_type=sa.Integer(), server_default="200")

    with op.batch_alter_table("retrain_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_retrain_job_site_id_site"), "site", ["site_id"], ["id"], ondelete="CASCADE"
        )


def downgrade():
    with op.batch_alter_table("retrain_job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_retrain_job_site_id_site"), type_="foreignkey")
        batch_op.drop_column("site_id")

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("retrained_at")
        batch_op.drop_column("model_version")
        batch_op.drop_column("auto_promote")
        batch_op.drop_column("auto_retrain_after")
