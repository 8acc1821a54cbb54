"""A photo being fetched is claimed for a while (issue #19): with several replicas each photo is
downloaded by one of them, not by every replica's worker at once.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_media") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_media") as batch:
        batch.drop_column("claimed_until")
