"""The analyse stage: transcript.json + translation.json -> analysis.json (entities, claims).

Everything is decided on the source text; the English of a claim is the translation of the
segments its span overlaps, carried along as evidence, never used to decide. A language other
than Russian or Ukrainian gives an analysis with no entities or claims and a note saying why.

    result = run(ctx)      # StageResult(files={"analysis.json": ...}, summary={...})

``record`` keeps the claims as ``claims`` rows and the named entities as ``item_entities`` rows
too (replacing the item's earlier ones, in the run's transaction), so that claims can be
queried across items by topic and stance, and each entity's mentions followed across items.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
from collections import Counter
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tolmach import glossary as glossary_mod
from tolmach.analysis import claims as claims_mod
from tolmach.analysis import entities as entities_mod
from tolmach.analysis import learned, lexicon
from tolmach.config import Settings
from tolmach.models import Transcript, Translation
from tolmach.pipeline.context import StageContext, StageResult, json_bytes
from tolmach.store.desk import EntityRow
from tolmach.store.tables import ClaimRow

log = logging.getLogger(__name__)
SCHEMA = "tolmach.analysis/1"


def _layout(transcript: Transcript) -> tuple[str, list[tuple[int, int]]]:
    """The analysed text (segments joined by newlines) and each segment's character span."""
    spans: list[tuple[int, int]] = []
    parts: list[str] = []
    at = 0
    for seg in transcript.segments:
        text = seg.text.strip()
        spans.append((at, at + len(text)))
        parts.append(text)
        at += len(text) + 1
    return "\n".join(parts), spans


def analyse(
    transcript: Transcript,
    translation: Translation | None,
    timed: bool = True,
    glossary: glossary_mod.Glossary | None = None,
    models: learned.Models | Literal["shipped"] = "shipped",
) -> dict[str, Any]:
    """The analysis of one item as plain data (what analysis.json holds); ``models`` as
    ``claims.extract`` takes them."""
    text, spans = _layout(transcript)
    language = transcript.language
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "language": language,
        "entities": [],
        "named": [],
        "claims": [],
        "note": "",
    }
    if language not in lexicon.LANGUAGES:
        data["note"] = f"Language {language!r} is not analysed (only Russian and Ukrainian)."
        return data
    if not text.strip():
        data["note"] = "Nothing to analyse: the transcript is empty."
        return data
    english = {s.id: s.text for s in translation.segments} if translation else {}
    found = entities_mod.find(text, language, glossary)
    data["entities"] = [
        e.to_dict() | _where(e.start, e.end, transcript, spans, timed) for e in found
    ]
    data["named"] = entities_mod.named(found)
    rows = []
    for c in claims_mod.extract(text, language, models=models):
        where = _where(c.start, c.end, transcript, spans, timed)
        en = " ".join(english[i] for i in where["segments"] if english.get(i))
        rows.append(c.to_dict() | where | {"english": en})
    data["claims"] = rows
    if not rows:
        data["note"] = "No claims found: no sentence names a topic or takes a stance."
    return data


def _where(
    start: int, end: int, transcript: Transcript, spans: list[tuple[int, int]], timed: bool
) -> dict[str, Any]:
    """Segment ids a character span overlaps, and its start and end time (None untimed)."""
    first = max(0, bisect.bisect_right(spans, (start, 1 << 62)) - 1) if spans else 0
    idx: list[int] = []
    for i in range(first, len(spans)):
        s, e = spans[i]
        if s >= end:
            break
        if start <= e:
            idx.append(i)
    ids = [transcript.segments[i].id for i in idx]
    if not idx or not timed:
        return {"segments": ids, "t_start": None, "t_end": None}
    return {
        "segments": ids,
        "t_start": transcript.segments[idx[0]].start,
        "t_end": transcript.segments[idx[-1]].end,
    }


def run(ctx: StageContext) -> StageResult:
    transcript = Transcript.from_dict(ctx.read_json("transcript.json"))
    translation = (
        Translation.from_dict(ctx.read_json("translation.json"))
        if ctx.has("translation.json")
        else None
    )
    glossary = glossary_mod.load(ctx.settings.glossary)
    on = ctx.settings.analysis_models
    timed = ctx.item.kind != "text"
    data = analyse(transcript, translation, timed, glossary, "shipped" if on else learned.NONE)
    models = learned.fingerprint() if on else ""
    log.info(
        "[%s:analyse] %d entities, %d claims",
        ctx.item.id,
        len(data["entities"]),
        len(data["claims"]),
    )
    return StageResult(
        files={"analysis.json": json_bytes(data)},
        engine="rules+natasha+e5" + (f"+models:{models}" if models else ""),
        summary={
            "entities": len(data["entities"]),
            "claims": len(data["claims"]),
            "stances": dict(Counter(c["stance"] for c in data["claims"])),
        },
    )


def entity_rows(item_id: str, entities: list[dict[str, Any]]) -> list[EntityRow]:
    """One row per distinct (kind, English name): its spellings, count and first mention."""
    mentions: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in entities:
        mentions.setdefault((e["kind"], e["english"]), []).append(e)
    rows = []
    for (kind, name), found in mentions.items():
        times = [m["t_start"] for m in found if m.get("t_start") is not None]
        rows.append(
            EntityRow(
                item_id=item_id,
                kind=kind,
                name=name,
                source=", ".join(dict.fromkeys(m["text"] for m in found)),
                count=len(found),
                t_start=min(times) if times else None,
            )
        )
    return rows


def record(session: Session, settings: Settings, item_id: str, result: StageResult) -> None:
    """Replace the item's ``claims`` and ``item_entities`` rows with those of this analysis."""
    data = result.files.get("analysis.json")
    if not isinstance(data, bytes):
        return
    sha = hashlib.sha256(data).hexdigest()
    analysis = json.loads(data)
    session.execute(delete(EntityRow).where(EntityRow.item_id == item_id))
    session.add_all(entity_rows(item_id, analysis["entities"]))
    session.execute(delete(ClaimRow).where(ClaimRow.item_id == item_id))
    for c in analysis["claims"]:
        session.add(
            ClaimRow(
                item_id=item_id,
                number=c["id"],
                topic=c["topic"],
                stance=c["stance"],
                blanket=c["blanket"],
                text=c["text"],
                english=c.get("english", ""),
                t_start=c.get("t_start"),
                t_end=c.get("t_end"),
                analysis_sha256=sha,
            )
        )
