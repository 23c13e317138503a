"""SQLAlchemy tables: items, capture records, stage runs, outputs, the custody log, trusted
timestamps, source checks (deletion watch), fingerprints and links between items."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
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
    size: Mapped[int] = mapped_column(BigInteger)  # bytes: past 2 GiB on PostgreSQL too
    ext: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))  # video, audio
    duration: Mapped[float]
    media_json: Mapped[str] = mapped_column(Text, default="{}")  # ffprobe facts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="ingested")
    # Deletion watch: "live", "deleted" (by the source) or "unknown" (never checked, or a file).
    source_status: Mapped[str] = mapped_column(String(16), default="unknown")
    source_deleted_at: Mapped[datetime | None] = mapped_column(default=None)

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
    kind: Mapped[str] = mapped_column(String(8), default="file")  # file, url
    url: Mapped[str] = mapped_column(Text, default="")  # the page or media URL asked for
    page_json: Mapped[str] = mapped_column(Text, default="{}")  # post text, uploader, time...
    files_json: Mapped[str] = mapped_column(Text, default="[]")  # [{name, role, sha256, size}]

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
    size: Mapped[int] = mapped_column(BigInteger)  # bytes: past 2 GiB on PostgreSQL too

    run: Mapped[StageRun] = relationship(back_populates="outputs")


class Event(Base):
    """The custody log: append-only, every entry carrying the hash of the one before.

    ``prev_hash`` chains all entries; ``item_prev_hash`` chains one item's entries (so an
    item's log in an evidence bundle checks on its own). ``item_id`` is empty for an attempt
    that stored nothing (a failed capture), with what was attempted in ``subject``.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # captured, processed, edited, reviewed...
    subject: Mapped[str] = mapped_column(Text, default="")
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    item_prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class Timestamp(Base):
    """An RFC 3161 token from a timestamp authority over the sha256 of a capture record."""

    __tablename__ = "timestamps"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    stamped_sha256: Mapped[str] = mapped_column(String(64))  # what the token is over
    tsa_url: Mapped[str] = mapped_column(Text)
    token_sha256: Mapped[str] = mapped_column(String(64))  # the DER token, in the blob store
    gen_time: Mapped[datetime]  # the authority's time, UTC


class SourceCheck(Base):
    """One look at an item's source URL by the deletion watch."""

    __tablename__ = "source_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # live, deleted, unreachable
    http_status: Mapped[int | None] = mapped_column(default=None)
    evidence_json: Mapped[str] = mapped_column(Text, default="{}")
    evidence_sha256: Mapped[str] = mapped_column(String(64), default="")  # response body blob


class Fingerprint(Base):
    """A perceptual fingerprint of an item's picture (PDQ hashes of sampled frames)."""

    __tablename__ = "fingerprints"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # pdq
    data: Mapped[bytes] = mapped_column(LargeBinary)  # concatenated 32-byte hashes
    count: Mapped[int]


class Link(Base):
    """A relation between two items: near-duplicate of, recants (later issues), ..."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_pair", "item_id", "other_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    other_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # near-duplicate
    score: Mapped[float] = mapped_column(default=0.0)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClaimRow(Base):
    """One claim of an item's latest analysis (analysis.json holds the full record)."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_item", "item_id", "number", unique=True),
        Index("ix_claims_topic", "topic", "stance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    number: Mapped[int]  # the claim's id in analysis.json
    topic: Mapped[str] = mapped_column(String(32))
    stance: Mapped[str] = mapped_column(String(16))  # complaint, denial, affirmation, ...
    blanket: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    english: Mapped[str] = mapped_column(Text, default="")
    t_start: Mapped[float | None] = mapped_column(default=None)
    t_end: Mapped[float | None] = mapped_column(default=None)
    analysis_sha256: Mapped[str] = mapped_column(String(64))


class ChainAnchor(Base):
    """An RFC 3161 token over the hash of the custody log's newest entry at one moment: once
    anchored, no entry up to ``event_id`` can be deleted or changed unnoticed."""

    __tablename__ = "chain_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int]  # the head entry when anchored
    head_hash: Mapped[str] = mapped_column(String(64))
    tsa_url: Mapped[str] = mapped_column(Text)
    token_sha256: Mapped[str] = mapped_column(String(64))  # the DER token, in the blob store
    gen_time: Mapped[datetime]
