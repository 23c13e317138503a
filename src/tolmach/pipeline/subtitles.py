"""Subtitles stage: SRT and WebVTT in the source language and in English.

Reads ``transcript.json`` and ``translation.json`` and writes ``source.srt``, ``source.vtt``,
``english.srt`` and ``english.vtt`` (UTF-8). Cues follow the style rules at the video's frame
rate (25 fps when the item has no video); the summary counts the cues and any rule the English
cues still break, which should be none. An item with no speech gets valid empty files.

``record`` puts the segments (source and English) into the full-text search index, replacing
the item's earlier rows in the run's transaction, so the index follows every edit.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from tolmach import search_index
from tolmach.config import Settings
from tolmach.models import Transcript, Translation
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.store.blobs import BlobStore
from tolmach.subtitles.build import english_cues, source_cues
from tolmach.subtitles.check import check_cues
from tolmach.subtitles.formats import to_srt, to_vtt
from tolmach.subtitles.rules import DEFAULT_FPS

log = logging.getLogger(__name__)


def run(ctx: StageContext) -> StageResult:
    prefix = f"[{ctx.item.id}:subtitles]"
    transcript = Transcript.from_dict(ctx.read_json("transcript.json"))
    translation = Translation.from_dict(ctx.read_json("translation.json"))
    fps = frame_rate(ctx.item.media)
    source = source_cues(transcript.segments, fps)
    english = english_cues(translation.segments, transcript.segments, fps)
    ctx.on_progress(1, 1)
    violations = check_cues(english, fps)
    for v in violations:
        log.warning("%s English cue %d breaks %s: %s", prefix, v.index, v.rule, v.message)
    log.info("%s %d source cues, %d English cues at %g fps", prefix, len(source), len(english), fps)
    return StageResult(
        files={
            "source.srt": to_srt(source).encode(),
            "source.vtt": to_vtt(source).encode(),
            "english.srt": to_srt(english).encode(),
            "english.vtt": to_vtt(english).encode(),
        },
        summary={
            "source_cues": len(source),
            "english_cues": len(english),
            "english_violations": len(violations),
            "fps": fps,
        },
    )


def record(session: Session, settings: Settings, item_id: str, result: StageResult) -> None:
    """Index the transcript and translation these subtitles were made from for search."""
    search_index.index_item(session, BlobStore(settings.blob_dir), item_id)


def frame_rate(media: dict[str, Any]) -> float:
    """The first video stream's frame rate from ffprobe facts, else 25."""
    for stream in media.get("streams", []):
        cover = stream.get("attached_pic") or stream.get("disposition", {}).get("attached_pic")
        if stream.get("codec_type") != "video" or cover:
            continue
        for key in ("r_frame_rate", "avg_frame_rate"):
            try:
                rate = float(Fraction(str(stream.get(key, ""))))
            except (ValueError, ZeroDivisionError):
                continue
            if 1 <= rate <= 240:
                return rate
    return DEFAULT_FPS
