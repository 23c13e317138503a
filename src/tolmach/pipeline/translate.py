"""The translate stage: transcript.json -> translation.json, one English segment per source one.

Each segment is translated with ``settings.mt_context`` neighbours on each side as context and
the glossary entries that match it, then checked by ``fidelity.flags``. The output is labelled
"machine translation, unreviewed" (and "draft" for the small local model): it is material for
a translator, never a publication.

    result = run(ctx)        # StageResult(files={"translation.json": ...}, summary=...)
"""

from __future__ import annotations

import logging
from pathlib import Path

from tolmach import glossary as glossary_mod
from tolmach.engines.mt import LABELS, make_translator
from tolmach.engines.mt_base import TranslationRequest, Translator
from tolmach.models import EnglishSegment, ModelRef, Transcript, Translation
from tolmach.pipeline import fidelity
from tolmach.pipeline.context import Progress, StageContext, StageResult, json_bytes

log = logging.getLogger(__name__)

LABEL = "machine translation, unreviewed"


def label_for(engine: str) -> str:
    extra = LABELS.get(engine)
    return f"{LABEL} ({extra})" if extra else LABEL


def translate_segments(
    transcript: Transcript,
    engine: Translator,
    glossary: glossary_mod.Glossary,
    context: int,
    on_progress: Progress | None = None,
) -> list[EnglishSegment]:
    """Translate every segment in order (1:1, same ids and times) and flag each one."""
    segs = transcript.segments
    texts = [s.text.strip() for s in segs]
    out: list[EnglishSegment] = []
    for i, seg in enumerate(segs):
        matched = glossary.matches(texts[i])
        request = TranslationRequest(
            text=texts[i],
            source_language=transcript.language,
            before=tuple(texts[max(0, i - context) : i]) if context > 0 else (),
            after=tuple(texts[i + 1 : i + 1 + context]) if context > 0 else (),
            glossary=matched,
            start=seg.start,
            end=seg.end,
        )
        english = engine.translate(request).strip()
        flags = fidelity.flags(
            texts[i],
            english,
            [e.text for e in out[-1:]],
            glossary=matched,
            previous_source=texts[i - 1] if i else None,
        )
        out.append(EnglishSegment(seg.id, seg.start, seg.end, english, flags))
        if on_progress is not None:
            on_progress(i + 1, len(segs))
    return out


def run(ctx: StageContext) -> StageResult:
    settings = ctx.settings
    transcript = Transcript.from_dict(ctx.read_json("transcript.json"))
    name = settings.mt_engine
    if not transcript.segments:
        empty = Translation(transcript.language, (), name, "", label_for(name))
        return StageResult(
            files={"translation.json": json_bytes(empty.to_dict())},
            engine=name,
            summary={"segments": 0, "flags": {}},
        )
    audio: Path | None = ctx.path("audio.wav") if ctx.has("audio.wav") else None
    engine = make_translator(settings, audio=audio)
    glossary = glossary_mod.load(settings.glossary)
    log.info("[%s:translate] %d segments with %s", ctx.item.id, len(transcript.segments), name)
    ctx.on_progress(0, len(transcript.segments))
    segments = translate_segments(
        transcript, engine, glossary, settings.mt_context, ctx.on_progress
    )
    ref: ModelRef = engine.model_ref()
    result = Translation(
        transcript.language, tuple(segments), engine.name, ref.name, label_for(name)
    )
    return StageResult(
        files={"translation.json": json_bytes(result.to_dict())},
        engine=engine.name,
        model=ref,
        summary={
            "segments": len(segments),
            "flags": fidelity.count([s.flags for s in segments]),
        },
    )
