"""Each reply names the patient message it answers (issue #19).

With several replicas a message's replies must be found exactly (a retried request, or a turn
answered by another replica, returns the stored answer); before, they were "every outbound message
after it", which also took the replies to the patient's next message.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_messages_reply_to_id", ["reply_to_id"])
        batch.create_foreign_key("fk_messages_reply_to_id", "messages", ["reply_to_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_reply_to_id", type_="foreignkey")
        batch.drop_index("ix_messages_reply_to_id")
        batch.drop_column("reply_to_id")
