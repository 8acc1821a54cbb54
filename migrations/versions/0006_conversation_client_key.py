"""A keyed hash of the client address that opened a web chat session, for per-client limits on new
sessions and messages (issue #16 item 5). The address itself is never stored.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=32), nullable=True))
        batch.create_index("ix_conversations_client_key", ["client_key"])


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_client_key")
        batch.drop_column("client_key")
