"""On-call contacts for business hours and after hours (issue #17): a business-hours contact paged
instead of the on-call phone during the clinic's business days and hours.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (
    ("day_oncall_name", sa.String(length=200), ""),
    ("day_oncall_phone", sa.String(length=32), ""),
    ("business_days", sa.String(length=20), "0,1,2,3,4"),
    ("business_start_hour", sa.Integer(), "9"),
    ("business_end_hour", sa.Integer(), "18"),
)


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        for name, type_, default in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=False, server_default=default))


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        for name, _, _ in reversed(COLUMNS):
            batch.drop_column(name)
