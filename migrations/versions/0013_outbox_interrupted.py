"""An SMS whose dispatcher died mid-send remembers when that send began (issue #19): before sending
it again, the dispatcher asks the provider whether the first attempt went out after all, so a
replica killed between Twilio's answer and recording it does not make the patient get it twice.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("interrupted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("interrupted_at")
