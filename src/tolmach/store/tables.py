"""SQLAlchemy tables: items, their capture records, stage runs, stage outputs and events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Item(Base):
    """One piece of media, identified by the sha256 of its original bytes."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    ext: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))  # video, audio
    duration: Mapped[float]
    media_json: Mapped[str] = mapped_column(Text, default="{}")  # ffprobe facts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="ingested")

    captures: Mapped[list[Capture]] = relationship(back_populates="item", order_by="Capture.id")


class Capture(Base):
    """One act of capture: where the bytes came from, when and by whom."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[datetime]
    operator: Mapped[str] = mapped_column(String(128))
    tool_version: Mapped[str] = mapped_column(String(32))
    record_sha256: Mapped[str] = mapped_column(String(64))

    item: Mapped[Item] = relationship(back_populates="captures")


class StageRun(Base):
    """One run of one stage on one item, keyed by the hash of everything it read."""

    __tablename__ = "stage_runs"
    __table_args__ = (Index("ix_stage_runs_lookup", "item_id", "stage", "input_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    stage: Mapped[str] = mapped_column(String(32))
    input_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # done, failed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    engine: Mapped[str] = mapped_column(String(64), default="")
    model_name: Mapped[str] = mapped_column(String(128), default="")
    model_sha256: Mapped[str] = mapped_column(String(64), default="")
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    summary_json: Mapped[str] = mapped_column(Text, default="{}")
    tool_version: Mapped[str] = mapped_column(String(32), default="")
    error: Mapped[str] = mapped_column(Text, default="")

    outputs: Mapped[list[Output]] = relationship(back_populates="run", order_by="Output.name")


class Output(Base):
    """A file a stage run produced, stored in the blob store by its sha256."""

    __tablename__ = "outputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("stage_runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]

    run: Mapped[StageRun] = relationship(back_populates="outputs")


class Event(Base):
    """Append-only log of what happened to an item."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
