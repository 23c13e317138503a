"""Tables of the web desk: accounts and sign-ins, jobs, each item's review state and notes,
the entities named in each item, and (in the migration only) the full-text segment index.

The desk's audit trail is the custody log (``events``): status changes, notes, edits and
publication are appended there, hash-chained, so the history of an item can't be rewritten.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from tolmach.store.tables import Base, utcnow

ROLES = ("viewer", "editor", "admin")  # each can do what the ones before it can
REVIEW_STATUSES = (
    "unstarted",
    "in_progress",
    "needs_review",
    "verified",
    "false_or_misleading",
    "cannot_be_verified",
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # viewer, editor, admin
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)


class WebSession(Base):
    """A sign-in: the cookie holds a random token, the table only its sha256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    """A token for scripts (``Authorization: Bearer ...``); stored as its sha256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name", "name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)


class Job(Base):
    """A unit of background work (ingest a file or URL, process, re-run after an edit).

    Durable: a job left ``running`` by a stopped server is queued again when the desk starts.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # ingest_file, ingest_url, process, edit
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True, default=None)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="queued")  # running, done, failed
    stage: Mapped[str] = mapped_column(String(32), default="")
    done: Mapped[float] = mapped_column(default=0.0)
    total: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(String(64), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)


def add_job(
    session: Session,
    kind: str,
    *,
    item_id: str | None = None,
    payload: dict[str, Any] | None = None,
    by: str = "",
) -> Job:
    """A queued job's row, added and flushed in ``session`` (its id is known, nothing is
    committed): whoever runs jobs listens for the commit."""
    job = Job(kind=kind, item_id=item_id, payload_json=json.dumps(payload or {}), created_by=by)
    session.add(job)
    session.flush()
    return job


class Review(Base):
    """An item's verification state on the desk (one row per item, made on first change)."""

    __tablename__ = "reviews"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), default="unstarted")
    assignee: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[str] = mapped_column(String(64), default="")


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_from: Mapped[str] = mapped_column(String(24), default="")
    status_to: Mapped[str] = mapped_column(String(24), default="")


class EntityRow(Base):
    """An entity named in an item's latest analysis (for entity pages and search filters)."""

    __tablename__ = "item_entities"
    __table_args__ = (Index("ix_item_entities_name", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # person, place, org, unit, term, ...
    name: Mapped[str] = mapped_column(Text)  # the English name
    source: Mapped[str] = mapped_column(Text, default="")  # as written in the source
    count: Mapped[int] = mapped_column(default=1)
    t_start: Mapped[float | None] = mapped_column(default=None)  # first mention
