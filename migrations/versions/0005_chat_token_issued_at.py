"""When a patient's chat link was issued: links stop working CHAT_LINK_DAYS later (issue #16 item 16).

Existing patients' links count from the patient's creation.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("chat_token_issued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE patients SET chat_token_issued_at = created_at WHERE chat_token_issued_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("chat_token_issued_at")
