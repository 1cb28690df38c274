"""Hold budgets per site and spot checks of the filter's approvals.

Revision ID: 4f2a9c7e1d3b
Revises: bcb5139da87e
Create Date: 2026-12-03 08:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4f2a9c7e1d3b"
down_revision = "bcb5139da87e"
branch_labels = None
depends_on = None


def upgrade():
    # Existing sites keep the model's thresholds (no budget) and check 1% of the filter's approvals.
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_budget_percent", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("hold_budget_per_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("budget_state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("spot_check_percent", sa.Double(), server_default="1", nullable=False))

    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spot_check", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("spot_verdict", sa.String(length=8), nullable=True))
        batch_op.create_index("ix_comment_spot_check", ["spot_check", "spot_verdict", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_spot_check")
        batch_op.drop_column("spot_verdict")
        batch_op.drop_column("spot_check")

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("spot_check_percent")
        batch_op.drop_column("budget_state")
        batch_op.drop_column("hold_budget_per_day")
        batch_op.drop_column("hold_budget_percent")
