"""Drop-in APIs: the signing secret Coral made for a site's moderation phase, and the hash of the site's key in
lower case (older Akismet clients send the key as a host name).

Revision ID: e4a7c2d9b1f3
Revises: c5d8e1f2a3b4
Create Date: 2026-12-03 12:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e4a7c2d9b1f3"
down_revision = "c5d8e1f2a3b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coral_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("key_host_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_site_key_host_hash"), ["key_host_hash"], unique=False)


def downgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_key_host_hash"))
        batch_op.drop_column("key_host_hash")
        batch_op.drop_column("coral_secret")
