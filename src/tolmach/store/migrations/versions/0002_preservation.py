"""preservation: custody chain, capture details, timestamps, source checks, fingerprints, links

Events written before this revision have no hashes yet; the custody log chains them, in id
order, the next time it appends an entry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(name: str, default: str = "") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=False, server_default=default)


def _str(name: str, length: int, default: str = "") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length), nullable=False, server_default=default)


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(_str("source_status", 16, "unknown"))
        batch.add_column(sa.Column("source_deleted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("captures") as batch:
        batch.add_column(_str("kind", 8, "file"))
        batch.add_column(_text("url"))
        batch.add_column(_text("page_json", "{}"))
        batch.add_column(_text("files_json", "[]"))
    with op.batch_alter_table("events") as batch:
        batch.alter_column("item_id", existing_type=sa.String(16), nullable=True)
        batch.add_column(_text("subject"))
        batch.add_column(_str("prev_hash", 64))
        batch.add_column(_str("item_prev_hash", 64))
        batch.add_column(_str("hash", 64))
    op.create_table(
        "timestamps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("capture_id", sa.Integer(), sa.ForeignKey("captures.id"), nullable=False),
        sa.Column("stamped_sha256", sa.String(64), nullable=False),
        sa.Column("tsa_url", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("gen_time", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_timestamps_capture_id", "timestamps", ["capture_id"])
    op.create_table(
        "source_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_source_checks_item_id", "source_checks", ["item_id"])
    op.create_table(
        "fingerprints",
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("other_id", sa.String(16), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_links_other_id", "links", ["other_id"])
    op.create_index("ix_links_pair", "links", ["item_id", "other_id", "kind"], unique=True)


def downgrade() -> None:
    for table in ("links", "fingerprints", "source_checks", "timestamps"):
        op.drop_table(table)
    with op.batch_alter_table("events") as batch:
        for col in ("hash", "item_prev_hash", "prev_hash", "subject"):
            batch.drop_column(col)
        batch.alter_column("item_id", existing_type=sa.String(16), nullable=False)
    # Plain DROP COLUMN (SQLite 3.35+): rebuilding a table that others point to would fail.
    for col in ("files_json", "page_json", "url", "kind"):
        op.drop_column("captures", col)
    op.drop_column("items", "source_deleted_at")
    op.drop_column("items", "source_status")
