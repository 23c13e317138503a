"""claims: each item's claims from its latest analysis, for queries across items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("stance", sa.String(16), nullable=False),
        sa.Column("blanket", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("english", sa.Text(), nullable=False),
        sa.Column("t_start", sa.Double(), nullable=True),
        sa.Column("t_end", sa.Double(), nullable=True),
        sa.Column("analysis_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_claims_item", "claims", ["item_id", "number"], unique=True)
    op.create_index("ix_claims_topic", "claims", ["topic", "stance"])


def downgrade() -> None:
    op.drop_table("claims")
