"""Check a whole store: every blob re-hashed, every custody entry and both chains recomputed.

What is checked, and what a finding means:

- each blob's bytes hash to its name (``blob-changed``), and every blob a row names exists
  (``blob-missing``): originals, capture records, capture files, outputs, timestamp tokens;
- each custody entry's hash recomputes (``event-changed``) and links to the one before, overall
  and per item (``chain-broken``: an entry was deleted or inserted); entries from before the
  chain existed are sealed first, as the next append would seal them;
- each capture row agrees with its capture record and its custody entry (``capture-changed``);
- each timestamp token is over the capture record's hash (``timestamp-mismatch``);
- each anchor of the custody log, stored or given as a receipt kept elsewhere, still holds: the
  entry it anchors is there with the anchored hash and the token is over it
  (``anchor-broken``: the newest entries were deleted, or the log rewritten).

Blobs are hashed in a thread pool (hashlib releases the GIL) with large reads.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import anchor, custody, timestamp
from tolmach.store.blobs import BlobStore, Progress
from tolmach.store.tables import (
    Capture,
    ChainAnchor,
    Event,
    Item,
    Output,
    SourceCheck,
    StageRun,
    Timestamp,
)

BUFFER = 8 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    kind: str  # blob-changed, blob-missing, event-changed, chain-broken, capture-changed, ...
    subject: str  # what is wrong: "blob 3fa2… (original of item 3fa2…)", "custody entry 12"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    events: int = 0
    captures: int = 0
    timestamps: int = 0
    anchors: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": {
                "blobs": self.blobs,
                "bytes": self.bytes,
                "events": self.events,
                "captures": self.captures,
                "timestamps": self.timestamps,
                "anchors": self.anchors,
            },
            "problems": [asdict(f) for f in self.findings],
        }


def hash_path(path: os.PathLike[str] | str, on_bytes: Callable[[int], None] | None = None) -> str:
    """sha256 of a file read in large blocks into one reused buffer."""
    h = hashlib.sha256()
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            if on_bytes:
                on_bytes(n)
    return h.hexdigest()


def hash_many(
    paths: Iterable[tuple[str, str]], on_bytes: Callable[[int], None], workers: int = 0
) -> dict[str, str | None]:
    """key -> sha256 of each (key, path), or None where the file cannot be read."""

    def one(item: tuple[str, str]) -> tuple[str, str | None]:
        key, path = item
        try:
            return key, hash_path(path, on_bytes)
        except OSError:
            return key, None

    n = workers or min(8, (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=n) as pool:
        return dict(pool.map(one, paths))


def _referenced(session: Session) -> dict[str, list[str]]:
    """sha256 -> what names it ("original of item X", "capture record 3", ...)."""
    refs: dict[str, list[str]] = {}

    def add(sha: str, who: str) -> None:
        if sha:
            refs.setdefault(sha, []).append(who)

    for item in session.scalars(select(Item)):
        add(item.sha256, f"original of item {item.id}")
    for cap in session.scalars(select(Capture)):
        add(cap.record_sha256, f"capture record {cap.id} of item {cap.item_id}")
        for f in _files(cap):
            add(str(f.get("sha256", "")), f"capture file {f.get('name')} of capture {cap.id}")
    rows = session.execute(select(Output, StageRun.item_id).join(StageRun))
    for out, item_id in rows:
        add(out.sha256, f"output {out.name} of item {item_id} (run {out.run_id})")
    for ts in session.scalars(select(Timestamp)):
        add(ts.token_sha256, f"timestamp token {ts.id} of capture {ts.capture_id}")
    for sc in session.scalars(select(SourceCheck)):
        add(sc.evidence_sha256, f"source check {sc.id} of item {sc.item_id}")
    for an in session.scalars(select(ChainAnchor)):
        add(an.token_sha256, f"timestamp token of custody anchor {an.id}")
    return refs


def _files(cap: Capture) -> list[dict[str, Any]]:
    try:
        files = json.loads(cap.files_json or "[]")
    except json.JSONDecodeError:
        return []
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def check_blobs(
    session: Session, blobs: BlobStore, report: Report, on_progress: Progress | None
) -> None:
    refs = _referenced(session)
    present = set(blobs.iter_shas())
    for sha in sorted(set(refs) - present):
        for who in refs[sha]:
            report.findings.append(
                Finding("blob-missing", f"{who} (blob {sha[:16]})", "is missing from the store")
            )
    todo = [(sha, str(blobs.path(sha))) for sha in sorted(present)]
    total = sum(os.stat(p).st_size for _, p in todo)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n  # a lost update between threads only makes the bar lag
        if on_progress:
            on_progress(done, total)

    got = hash_many(todo, on_bytes)
    report.blobs, report.bytes = len(todo), total
    for sha, actual in sorted(got.items()):
        if actual != sha:
            whose = "; ".join(refs.get(sha, ["not referenced"]))
            why = "cannot be read" if actual is None else f"its bytes now hash to {actual[:16]}"
            report.findings.append(Finding("blob-changed", f"blob {sha[:16]} ({whose})", why))


def check_events(session: Session, report: Report) -> None:
    entries = [custody.entry_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]
    report.events = len(entries)
    for p in custody.check_chain(entries):
        kind = "chain-broken" if "chain" in p.what else "event-changed"
        report.findings.append(Finding(kind, f"custody entry {p.entry}", p.what))


def check_captures(session: Session, blobs: BlobStore, report: Report) -> None:
    captured: dict[int, dict[str, Any]] = {}
    for ev in session.scalars(select(Event).where(Event.kind == "captured")):
        detail = custody.entry_dict(ev)["detail"]
        if isinstance(detail, dict) and isinstance(detail.get("capture"), int):
            captured[detail["capture"]] = detail
    for cap in session.scalars(select(Capture)):
        report.captures += 1
        subject = f"capture {cap.id} of item {cap.item_id}"
        logged = captured.get(cap.id, {})
        for key, value in (("source", cap.source), ("record_sha256", cap.record_sha256)):
            if key in logged and logged[key] != value:
                why = f"{key} is {value!r} but the custody log recorded {logged[key]!r}"
                report.findings.append(Finding("capture-changed", subject, why))
        if not blobs.has(cap.record_sha256):
            continue
        try:
            record = json.loads(blobs.read_bytes(cap.record_sha256))
        except (ValueError, OSError):
            continue  # a changed record is reported by the blob check
        source = record.get("source")
        values = source.values() if isinstance(source, dict) else [source]
        named = {v for v in [*values, record.get("url")] if isinstance(v, str)}
        if cap.source not in named:
            why = f"source is {cap.source!r}, not what its capture record says"
            report.findings.append(Finding("capture-changed", subject, why))
        item_sha = session.scalar(select(Item.sha256).where(Item.id == cap.item_id))
        if record.get("sha256") not in (None, item_sha):
            why = "its capture record is of other bytes than the item's original"
            report.findings.append(Finding("capture-changed", subject, why))


def check_timestamps(session: Session, blobs: BlobStore, report: Report) -> None:
    for ts in session.scalars(select(Timestamp)):
        report.timestamps += 1
        cap = session.get(Capture, ts.capture_id)
        subject = f"timestamp {ts.id} of capture {ts.capture_id}"
        if cap is not None and ts.stamped_sha256 != cap.record_sha256:
            why = "is over another hash than the capture record's"
            report.findings.append(Finding("timestamp-mismatch", subject, why))
        if not blobs.has(ts.token_sha256):
            continue
        try:
            imprint, _, _ = timestamp.read_token(blobs.read_bytes(ts.token_sha256))
        except (ValueError, TypeError, KeyError, OSError):
            imprint = "(unreadable token)"
        if imprint != ts.stamped_sha256:
            why = f"the token's imprint is {imprint[:16]}, not the stamped hash"
            report.findings.append(Finding("timestamp-mismatch", subject, why))


def check_anchors(
    session: Session, blobs: BlobStore, report: Report, receipts: Sequence[dict[str, Any]]
) -> None:
    report.anchors = len(receipts) + len(session.scalars(select(ChainAnchor.id)).all())
    for subject, why in anchor.check(session, blobs, receipts):
        report.findings.append(Finding("anchor-broken", subject, why))


def verify_store(
    db: sessionmaker[Session],
    blobs: BlobStore,
    on_progress: Progress | None = None,
    receipts: Sequence[dict[str, Any]] = (),
) -> Report:
    """Check everything in the store; the report lists every finding (none: all intact)."""
    report = Report()
    custody.seal(db)  # entries from before the chain existed get their hashes first
    with db() as session:
        check_events(session, report)
        check_captures(session, blobs, report)
        check_timestamps(session, blobs, report)
        check_anchors(session, blobs, report, receipts)
        check_blobs(session, blobs, report, on_progress)
    return report
