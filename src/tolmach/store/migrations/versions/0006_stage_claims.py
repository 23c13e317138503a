"""stage claims: which worker runs which stage of which item, with a heartbeat

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_claims",
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("worker", sa.String(96), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stage_claims")
