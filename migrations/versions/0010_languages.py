"""A preferred language per patient, the language of each conversation, and a Spanish text per
check-in step (issue #18).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("patients", "conversations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("checkin_steps") as batch:
        batch.add_column(sa.Column("body_es", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkin_steps") as batch:
        batch.drop_column("body_es")
    for table in ("patients", "conversations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")
