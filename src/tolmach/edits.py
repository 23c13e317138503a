"""Segment edits: a person corrects the source text or the English of one segment.

An edit is written at once, as a new run (engine "person") of the stage that made the file,
keyed as the runner keys that stage over the current inputs, so the runner takes it as done
and re-runs only what reads the changed file:

- English: translation.json with the segment's text replaced and marked ``reviewed`` (with
  ``reviewed_by``); a ``process`` job then re-runs subtitles, render and analyse.
- Source: transcript.json with the segment's text replaced, and translation.json re-keyed to it
  (that segment's English kept but no longer reviewed, every other segment as it was, so no
  run re-translates the whole item); an ``edit`` job (:func:`run_job`) then re-translates that
  one segment with the configured engine and runs the rest.

Every edit appends an "edited" entry to the custody log. The edits of an item are serialised
on the database's write lock, so two editors (or an editor and a job) never lose a change.

    edit = edit_segment(ws, jobs, "3f2a9c", 4, "english", "We have no water.", by="anna")
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from tolmach import __version__, custody
from tolmach import glossary as glossary_mod
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import InputError
from tolmach.models import ModelRef, Transcript
from tolmach.pipeline import fidelity, runner
from tolmach.pipeline.context import json_bytes
from tolmach.store import queries
from tolmach.store.tables import Item, Output, StageRun, utcnow
from tolmach.workspace import Workspace

FILES = {"source": "transcript.json", "english": "translation.json"}
MAX_CHARS = 2000
STAGES = {stage.name: stage for stage in runner.STAGES}

Json = dict[str, Any]


class Jobs(Protocol):
    """Where re-runs are queued (the desk's ``JobQueue``): in the edit's own transaction."""

    def submit(
        self,
        session: Session,
        kind: str,
        *,
        item_id: str | None = None,
        payload: dict[str, Any] | None = None,
        by: str = "",
    ) -> Any: ...


@dataclass(frozen=True)
class Edit:
    item_id: str
    segment: int
    field: str  # source, english
    old_sha256: str
    new_sha256: str  # equal to old_sha256 when the edit changed nothing
    job_id: int | None  # the re-run queued; None when nothing changed


def clean_text(text: str) -> str:
    """One segment's text as stored: whitespace runs become single spaces; 1-2,000 characters."""
    text = " ".join(text.split())
    if not text:
        raise InputError("The text is empty.", "Type the segment's text, or cancel the edit.")
    if len(text) > MAX_CHARS:
        raise InputError(
            f"The text is {len(text):,} characters long; a segment holds at most {MAX_CHARS:,}.",
            "Shorten it: a segment is a sentence or two of speech.",
        )
    return text


def edit_segment(
    ws: Workspace, jobs: Jobs, item_ref: str, number: int, field: str, text: str, *, by: str
) -> Edit:
    """Replace the source text or the English of segment ``number`` and queue the re-run."""
    if field not in FILES:
        raise InputError(f"Unknown field {field!r}.", "Edit either 'source' or 'english'.")
    text = clean_text(text)
    with ws.db() as session:
        item_id = queries.get_item(session, item_ref).id
    with ws.db.begin() as session:
        _lock(session, item_id)
        outputs = queries.current_outputs(session, item_id)
        name = FILES[field]
        if "transcript.json" not in outputs:
            raise _not_yet(item_id, "transcript")
        transcript = _load(ws, outputs, "transcript.json")
        english = FILES["english"]
        translation = _load(ws, outputs, english) if english in outputs else None
        target = transcript if field == "source" else translation
        if target is None:
            raise _not_yet(item_id, "translation")
        i = segment_index(transcript, translation, number, item_id)
        seg = target["segments"][i]
        before = seg["text"]
        if field == "source" and text == before:
            return Edit(item_id, number, field, outputs[name], outputs[name], None)
        seg["text"] = text
        if field == "english":
            seg.update(reviewed=True, reviewed_by=by)
        else:
            seg["words"] = []  # Whisper's word timings no longer match the text
        if translation is not None:
            if field == "source":
                translation["segments"][i].update(reviewed=False)
                translation["segments"][i].pop("reviewed_by", None)
            _reflag(ws, transcript, translation, (i, i + 1))
        new = json_bytes(target)
        new_sha = hashlib.sha256(new).hexdigest()
        if new_sha == outputs[name]:
            return Edit(item_id, number, field, new_sha, new_sha, None)
        edited = {"segment": number, "field": field, "by": by}
        runs: list[int] = []
        if field == "source":
            files = {name: new}
            if "transcript.txt" in outputs:
                files["transcript.txt"] = (Transcript.from_dict(transcript).text + "\n").encode()
            runs.append(_record(ws, session, item_id, name, files, "person", edited).id)
        if translation is not None:
            files = {"translation.json": json_bytes(translation)}
            runs.append(_record(ws, session, item_id, english, files, "person", edited).id)
        custody.append(
            session,
            kind="edited",
            actor=by,
            item_id=item_id,
            subject=f"segment {number} {field}",
            detail={
                "segment": number,
                "field": field,
                "file": name,
                "old_sha256": outputs[name],
                "new_sha256": new_sha,
                "before": before,
                "after": text,
                "runs": runs,
            },
        )
        payload = {"segment": number, "field": field}
        kind = "edit" if field == "source" and translation is not None else "process"
        job = jobs.submit(session, kind, item_id=item_id, payload=payload, by=by)
        return Edit(item_id, number, field, outputs[name], new_sha, int(job.id))


def run_job(
    ws: Workspace,
    job_id: int,
    item_id: str | None,
    payload: dict[str, Any],
    progress: runner.StageEvent,
) -> None:
    """The ``edit`` job after a source edit: re-translate that one segment, then process."""
    if item_id is None:
        raise InputError("An edit job needs an item.", "Edit a segment of an item.")
    retranslate(ws, item_id, int(payload["segment"]), progress, job_id)
    ws.process(item_id, progress)


def retranslate(
    ws: Workspace,
    item_id: str,
    number: int,
    progress: runner.StageEvent = lambda stage, kind, done, total: None,
    job_id: int | None = None,
) -> bool:
    """Translate segment ``number`` again from its (edited) source and record translation.json;
    False when there is nothing to do: the English was reviewed since, or the source was
    edited again (whose own job translates it)."""
    with ws.db() as session:
        outputs = queries.current_outputs(session, item_id)
    if "translation.json" not in outputs:
        return False  # not translated yet: the runner translates every segment
    transcript = _load(ws, outputs, "transcript.json")
    i = segment_index(transcript, _load(ws, outputs, "translation.json"), number, item_id)
    progress("translate", "start", 0, 1)
    audio = ws.blobs.path(outputs["audio.wav"]) if "audio.wav" in outputs else None
    engine = make_translator(ws.settings, audio=audio)
    english = engine.translate(_request(ws, Transcript.from_dict(transcript), i)).strip()
    with ws.db.begin() as session:
        _lock(session, item_id)
        now = queries.current_outputs(session, item_id)
        if now["transcript.json"] != outputs["transcript.json"]:
            return False
        translation = _load(ws, now, "translation.json")  # with any English edited meanwhile
        seg = translation["segments"][i]
        if seg.get("reviewed"):
            return False
        seg["text"] = english
        _reflag(ws, transcript, translation, (i, i + 1))
        files = {"translation.json": json_bytes(translation)}
        if hashlib.sha256(files["translation.json"]).hexdigest() == now["translation.json"]:
            return False  # a job run again after a restart: done already
        summary = {"segment": number, "field": "source", "job": job_id}
        run = _record(
            ws,
            session,
            item_id,
            "translation.json",
            files,
            engine.name,
            summary,
            engine.model_ref(),
        )
        custody.append(
            session,
            kind="processed",
            actor=ws.settings.operator,
            item_id=item_id,
            subject="translate",
            detail={
                "stage": "translate",
                "run": run.id,
                "outputs": {o.name: o.sha256 for o in run.outputs},
                "segment": number,
            },
        )
    progress("translate", "done", 1, 1)
    return True


def segment_index(transcript: Json, translation: Json | None, number: int, item_id: str) -> int:
    """Where segment ``number`` is in the transcript (and the translation, one to one)."""
    ids = [s["id"] for s in transcript["segments"]]
    if number not in ids:
        hint = f"Its segments are numbered {ids[0]} to {ids[-1]}." if ids else "It has none."
        raise InputError(f"Item {item_id} has no segment {number}.", hint)
    i = ids.index(number)
    if translation is not None and [s["id"] for s in translation["segments"]] != ids:
        raise InputError(
            f"Item {item_id}'s translation does not match its transcript.",
            "Process the item again (`tolmach process`) before editing it.",
        )
    return i


def _not_yet(item_id: str, what: str) -> InputError:
    return InputError(f"Item {item_id} has no {what} yet.", "Wait until it has been processed.")


def _lock(session: Session, item_id: str) -> None:
    """Take the write lock first, so what is read next is what the edit replaces."""
    session.execute(update(Item).where(Item.id == item_id).values(status=Item.status))


def _load(ws: Workspace, outputs: dict[str, str], name: str) -> Json:
    data: Json = json.loads(ws.blobs.read_bytes(outputs[name]))
    return data


def _request(ws: Workspace, transcript: Transcript, i: int) -> TranslationRequest:
    """As the translate stage asks for segment ``i``: its neighbours as context, its glossary."""
    texts = [s.text.strip() for s in transcript.segments]
    context = ws.settings.mt_context
    seg = transcript.segments[i]
    return TranslationRequest(
        text=texts[i],
        source_language=transcript.language,
        before=tuple(texts[max(0, i - context) : i]) if context > 0 else (),
        after=tuple(texts[i + 1 : i + 1 + context]) if context > 0 else (),
        glossary=glossary_mod.load(ws.settings.glossary).matches(texts[i]),
        start=seg.start,
        end=seg.end,
    )


def _reflag(ws: Workspace, transcript: Json, translation: Json, indices: tuple[int, ...]) -> None:
    """Check segments ``indices`` again as the translate stage does (a neighbour's flags can
    depend on the changed one)."""
    glossary = glossary_mod.load(ws.settings.glossary)
    sources = [s["text"].strip() for s in transcript["segments"]]
    english = translation["segments"]
    for i in indices:
        if i >= len(english):
            continue
        english[i]["flags"] = list(
            fidelity.flags(
                sources[i],
                english[i]["text"],
                [english[i - 1]["text"]] if i else [],
                glossary=glossary.matches(sources[i]),
                previous_source=sources[i - 1] if i else None,
            )
        )


def _record(
    ws: Workspace,
    session: Session,
    item_id: str,
    name: str,
    files: dict[str, bytes],
    engine: str,
    edited: Json,
    model: ModelRef | None = None,
) -> StageRun:
    """A done run of the stage that made ``name``, keyed as the runner would key it now, with
    ``files`` and the rest of that stage's current outputs."""
    producer = [r for r in queries.latest_runs(session, item_id) if name in _names(r)][-1]
    stage = STAGES[producer.stage]
    summary = json.loads(producer.summary_json)
    summary["edited"] = edited
    if name == "translation.json":
        flags = [s["flags"] for s in json.loads(files[name])["segments"]]
        summary["flags"] = fidelity.count(flags)
    inputs = queries.current_outputs(session, item_id)
    run = StageRun(
        item_id=item_id,
        stage=stage.name,
        input_key=runner._input_key(stage, inputs, ws.settings),
        status="done",
        started_at=utcnow(),
        engine=engine,
        model_name=model.name if model else "",
        model_sha256=model.sha256 if model else "",
        settings_json=json.dumps({k: getattr(ws.settings, k) for k in stage.settings}, default=str),
        summary_json=json.dumps(summary, default=str),
        tool_version=__version__,
    )
    session.add(run)
    session.flush()
    for out in producer.outputs:
        if out.name not in files:
            session.add(Output(run_id=run.id, name=out.name, sha256=out.sha256, size=out.size))
    for out_name, data in files.items():
        sha, size = ws.blobs.put_bytes(data)
        session.add(Output(run_id=run.id, name=out_name, sha256=sha, size=size))
    session.flush()
    session.refresh(run)
    return run


def _names(run: StageRun) -> set[str]:
    return {o.name for o in run.outputs}
