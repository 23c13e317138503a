"""desk: accounts, sign-ins, API tokens, jobs, reviews, notes, entities, segment search

On SQLite the segment index is an FTS5 table; on PostgreSQL a table whose ``terms`` tsvector
(filled by tolmach.search_index) has a GIN index; on other databases a plain table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEARCH_COLUMNS = (
    "source, english, item_id UNINDEXED, seg UNINDEXED, t_start UNINDEXED, t_end UNINDEXED"
)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer(), primary_key=True)


def _user_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False)


def _item_fk(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _when("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "web_sessions",
        _id(),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _user_fk(),
        sa.Column("csrf", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        _id(),
        _user_fk(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "login_attempts",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        _when("at"),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_name", "login_attempts", ["name", "at"])
    op.create_index("ix_login_attempts_address", "login_attempts", ["address"])
    op.create_table(
        "jobs",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        _item_fk(nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("done", sa.Double(), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("created_at"),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        _when("heartbeat_at", nullable=True),
    )
    op.create_index("ix_jobs_status", "jobs", ["status", "id"])
    op.create_index("ix_jobs_item_id", "jobs", ["item_id"])
    op.create_table(
        "reviews",
        sa.Column("item_id", sa.String(16), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        _when("updated_at"),
        sa.Column("updated_by", sa.String(64), nullable=False),
        _when("published_at", nullable=True),
        sa.Column("published_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "notes",
        _id(),
        _item_fk(),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("created_at"),
        sa.Column("status_from", sa.String(24), nullable=False),
        sa.Column("status_to", sa.String(24), nullable=False),
    )
    op.create_index("ix_notes_item_id", "notes", ["item_id"])
    op.create_table(
        "item_entities",
        _id(),
        _item_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("t_start", sa.Double(), nullable=True),
    )
    op.create_index("ix_item_entities_item_id", "item_entities", ["item_id"])
    op.create_index("ix_item_entities_name", "item_entities", ["kind", "name"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE segment_search USING fts5({SEARCH_COLUMNS}, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    elif op.get_bind().dialect.name == "postgresql":
        # rowid: named as SQLite's, so the newest-first order is one query on both.
        op.execute(
            "CREATE TABLE segment_search (rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "source TEXT NOT NULL, english TEXT NOT NULL, item_id VARCHAR(16) NOT NULL, "
            "seg INTEGER NOT NULL, t_start DOUBLE PRECISION NOT NULL, "
            "t_end DOUBLE PRECISION NOT NULL, terms TSVECTOR NOT NULL DEFAULT '')"
        )
        op.execute("CREATE INDEX segment_search_terms ON segment_search USING gin (terms)")
        op.execute("CREATE INDEX segment_search_item ON segment_search (item_id)")
    else:
        op.execute(
            "CREATE TABLE segment_search (source TEXT, english TEXT, item_id VARCHAR(16), "
            "seg INTEGER, t_start DOUBLE PRECISION, t_end DOUBLE PRECISION)"
        )


def downgrade() -> None:
    op.execute("DROP TABLE segment_search")
    for name in ("item_entities", "notes", "reviews", "jobs", "login_attempts"):
        op.drop_table(name)
    for name in ("api_tokens", "web_sessions", "users"):
        op.drop_table(name)
