"""Fingerprint stage: PDQ hashes of the original's frames, and links to near-duplicate items.

``run`` writes ``fingerprint.pdq`` (the concatenated 32-byte frame hashes, see
:mod:`tolmach.fingerprint`). ``record`` is called by the runner inside the transaction that
records the run: it stores the ``Fingerprint`` row and links the item to every stored item it
matches (:func:`tolmach.similar.link_item`). An item without a picture (audio only, or a video
whose frames are all flat) gets no fingerprint and no links.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from tolmach.config import Settings
from tolmach.fingerprint import HASH_BYTES, frame_hashes
from tolmach.media import has_video
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.similar import link_item

log = logging.getLogger(__name__)

FILE = "fingerprint.pdq"


def run(ctx: StageContext) -> StageResult:
    """Hash the original's frames; nothing for an item without video."""
    prefix = f"[{ctx.item.id}:fingerprint]"
    if ctx.item.kind != "video" or not has_video(ctx.item.media):
        log.info("%s no video stream; no fingerprint", prefix)
        return StageResult(summary={"frames": 0, "video": False})
    data = frame_hashes(
        ctx.path("original"),
        fps=ctx.settings.fingerprint_fps,
        max_frames=ctx.settings.fingerprint_max_frames,
        duration=ctx.item.duration,
        on_progress=ctx.on_progress,
    )
    frames = len(data) // HASH_BYTES
    log.info("%s %d frame hashes", prefix, frames)
    if not frames:
        return StageResult(engine="pdq", summary={"frames": 0, "video": True})
    return StageResult(files={FILE: data}, engine="pdq", summary={"frames": frames, "video": True})


def record(session: Session, settings: Settings, item_id: str, result: StageResult) -> None:
    """Store the fingerprint and the item's near-duplicate links (in the run's transaction)."""
    data = result.files.get(FILE)
    if not isinstance(data, bytes) or not data:
        return
    hits = link_item(
        session,
        item_id,
        data,
        max_distance=settings.similar_max_distance,
        min_share=settings.similar_min_share,
    )
    result.summary["near_duplicates"] = [h.item_id for h in hits]
    for hit in hits:
        log.info("[%s:fingerprint] near-duplicate of %s (%.2f)", item_id, hit.item_id, hit.score)
