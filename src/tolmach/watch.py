"""Deletion watch: look at every captured source URL again and record what is still there.

One pass checks each distinct URL an item was captured from (``Capture.kind == "url"``) with
:func:`tolmach.sourcecheck.check`, and for each item, in one transaction, writes a
``SourceCheck`` row per URL (the evidence as JSON, the response body in the blob store) and
updates ``Item.source_status``:

- ``deleted`` when every URL of the item is deleted: ``source_deleted_at`` is the time of the
  first check that found it so, and a ``source-deleted`` custody entry names the evidence;
- ``live`` when any URL is live (a ``source-restored`` entry if it had been deleted);
- unchanged otherwise: an unreachable source proves nothing.

The stored copy of the item is never touched. ``watch_forever`` repeats the pass on a schedule.

    reports = watch_pass(db, blobs, settings)
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import custody
from tolmach.config import Settings
from tolmach.errors import ConfigError
from tolmach.sourcecheck import Checked, check
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Capture, Item, SourceCheck

__all__ = ["ItemReport", "parse_every", "sources", "watch_forever", "watch_pass"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemReport:
    """What one pass found for one item."""

    item_id: str
    status: str  # the item's source_status after the pass
    changed: bool
    checks: list[dict[str, Any]]  # url, outcome, http_status, reason, check id


def sources(session: Session, item_ids: list[str] | None = None) -> dict[str, dict[str, bool]]:
    """Item id -> {URL: whether the captured page had a video}, for every URL capture."""
    q = select(Capture).where(Capture.kind == "url", Capture.url != "").order_by(Capture.id)
    if item_ids:
        q = q.where(Capture.item_id.in_(item_ids))
    found: dict[str, dict[str, bool]] = {}
    for cap in session.scalars(q):
        urls = found.setdefault(cap.item_id, {})
        urls[cap.url] = urls.get(cap.url, False) or _had_video(cap.page_json)
    return found


def _had_video(page_json: str) -> bool:
    try:
        meta = json.loads(page_json or "{}").get("meta") or {}
    except (json.JSONDecodeError, AttributeError):
        return False
    return bool(meta.get("og:video")) or str(meta.get("og:type", "")).startswith("video")


def client_for(settings: Settings) -> httpx.Client:
    return httpx.Client(
        follow_redirects=True,
        max_redirects=settings.watch_max_redirects,
        timeout=settings.watch_timeout_s,
        headers={"User-Agent": settings.watch_user_agent},
    )


def watch_pass(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    *,
    item_ids: list[str] | None = None,
    client: httpx.Client | None = None,
    on_item: Callable[[ItemReport], None] = lambda report: None,
) -> list[ItemReport]:
    """Check every source URL once (or those of ``item_ids``); report each item."""
    with db() as session:
        todo = sources(session, item_ids)
    own = client is None
    http = client or client_for(settings)
    reports = []
    try:
        for item_id, urls in todo.items():
            seen = [check(http, url, had_video=video) for url, video in urls.items()]
            report = _record(db, blobs, settings, item_id, seen)
            log.info("[%s:watch] %s", item_id, report.status)
            on_item(report)
            reports.append(report)
    finally:
        if own:
            http.close()
    return reports


def _record(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    item_id: str,
    seen: list[Checked],
) -> ItemReport:
    stored = [blobs.put_bytes(c.body)[0] if c.body else "" for c in seen]
    with db.begin() as session:
        item = session.get(Item, item_id)
        if item is None:  # removed while we were checking
            return ItemReport(item_id, "unknown", False, [])
        rows = [
            SourceCheck(
                item_id=item_id,
                url=c.url,
                checked_at=c.at,
                outcome=c.outcome,
                http_status=c.status,
                evidence_json=custody.canonical(c.evidence),
                evidence_sha256=sha,
            )
            for c, sha in zip(seen, stored, strict=True)
        ]
        session.add_all(rows)
        session.flush()
        checks = [
            {
                "id": r.id,
                "url": r.url,
                "outcome": r.outcome,
                "http_status": r.http_status,
                "reason": c.evidence.get("reason", ""),
                "evidence_sha256": r.evidence_sha256,
            }
            for r, c in zip(rows, seen, strict=True)
        ]
        outcomes = {c.outcome for c in seen}
        before = item.source_status
        kind = ""
        if "live" in outcomes:
            item.source_status, item.source_deleted_at = "live", None
            kind = "source-restored" if before == "deleted" else ""
        elif outcomes == {"deleted"} and before != "deleted":
            item.source_status, item.source_deleted_at = "deleted", max(c.at for c in seen)
            kind = "source-deleted"
        if kind:
            custody.append(
                session,
                kind=kind,
                actor=settings.operator,
                item_id=item_id,
                subject=seen[0].url,
                detail={"checks": checks},
            )
        return ItemReport(item_id, item.source_status, item.source_status != before, checks)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """Seconds in "90", "90s", "15m", "2h" or "1d"."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not found or float(found.group(1)) <= 0:
        raise ConfigError(
            f"{text!r} is not a time between watch passes.", 'Give it as "90s", "15m" or "2h".'
        )
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def watch_forever(
    run_pass: Callable[[], object],
    every_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    passes: int | None = None,
) -> None:
    """Run ``run_pass`` every ``every_s`` seconds (from the start of one to the next)."""
    done = 0
    while passes is None or done < passes:
        started = time.monotonic()
        run_pass()
        done += 1
        if passes is None or done < passes:
            sleep(max(0.0, every_s - (time.monotonic() - started)))
