"""Run the stages of an item in order, skipping any whose inputs and settings are unchanged.

Each stage run is keyed by the sha256 of what it reads (input blobs, its settings, the tool
version). Outputs are written to the blob store first and recorded in one transaction at the
end, so a crash or kill in the middle of a stage leaves no recorded output and the same
command again simply runs that stage again. A result is dropped, not recorded, when what the
stage read or made changed while it ran (a person's edit, another worker): the change is kept
and the stage is looked at again. ``run_one`` runs a single stage, as a distributed worker does.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody
from tolmach.config import Settings
from tolmach.errors import TolmachError
from tolmach.pipeline.context import ItemInfo, StageContext, StageResult
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Item, Output, StageRun, utcnow

log = logging.getLogger(__name__)


Recorder = Callable[[Session, Settings, str, StageResult], None]


@dataclass(frozen=True)
class Stage:
    name: str
    module: str  # tolmach.pipeline.<module> with a run(ctx) function
    reads: tuple[str, ...]
    settings: tuple[str, ...] = ()
    version: int = 1  # bump when the stage's code changes what it writes
    kinds: tuple[str, ...] = ("video", "audio", "text")  # the item kinds it runs on
    opt_in: str = ""  # a bool setting that must be on for the stage to run (and be recorded)

    def fn(self) -> Callable[[StageContext], StageResult]:
        mod = importlib.import_module(f"tolmach.pipeline.{self.module}")
        run: Callable[[StageContext], StageResult] = mod.run
        return run

    def recorder(self) -> Recorder | None:
        """The stage's ``record(session, settings, item_id, result)``, if it keeps rows of its
        own: called first in the transaction that records the run."""
        mod = importlib.import_module(f"tolmach.pipeline.{self.module}")
        record: Recorder | None = getattr(mod, "record", None)
        return record


MEDIA = ("video", "audio")

STAGES: tuple[Stage, ...] = (
    Stage("text", "text_item", reads=("original",), kinds=("text",)),
    Stage("probe", "probe", reads=("original",), kinds=MEDIA),
    Stage(
        "fingerprint",
        "fingerprint",
        reads=("original",),
        settings=("fingerprint_fps", "fingerprint_max_frames"),
        kinds=MEDIA,
    ),
    Stage(
        "transcribe",
        "transcribe",
        reads=("audio.wav",),
        settings=("asr_model", "asr_beam_size", "asr_batch_size", "asr_window_s", "languages"),
        kinds=MEDIA,
    ),
    Stage(
        "translate",
        "translate",
        reads=("transcript.json", "audio.wav"),  # audio: for Whisper's speech translation
        settings=("mt_engine", "mt_model", "mt_url", "mt_ct2_path", "mt_context", "glossary"),
    ),
    Stage("subtitles", "subtitles", reads=("transcript.json", "translation.json")),
    Stage(
        "render",
        "render",
        reads=("original", "english.srt", "translation.json"),
        settings=("render_vertical", "render_crf", "render_preset", "render_max_s"),
        kinds=MEDIA,
    ),
    Stage(
        "analyse", "analyse", reads=("transcript.json", "translation.json"), settings=("glossary",)
    ),
    Stage(
        "voice",
        "voice",
        reads=("original", "translation.json", "english.srt"),
        settings=(
            "voice_engine",
            "voice_model",
            "voice_max_tempo",
            "voice_loudness",
            "render_crf",
            "render_preset",
            "c2pa_cert",
            "c2pa_key",
            "c2pa_tsa_url",
        ),
        kinds=MEDIA,
        opt_in="voice_in_run",
    ),
)

StageEvent = Callable[[str, str, float, float], None]  # stage, "start"|"progress"|"done"|"skip"
MAX_SUPERSEDED = 3  # how often a stage's result may be overtaken by changes before it fails


def _input_key(stage: Stage, inputs: dict[str, str], settings: Settings) -> str:
    chosen = {name: inputs.get(name, "") for name in stage.reads}
    conf: dict[str, Any] = {k: getattr(settings, k) for k in stage.settings}
    glossary = conf.get("glossary")
    if isinstance(glossary, Path):
        conf["glossary"] = hashlib.sha256(glossary.read_bytes()).hexdigest()
    blob = json.dumps(
        {"stage": stage.name, "v": stage.version, "inputs": chosen, "settings": conf},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def item_info(session: Session, item_id: str) -> ItemInfo:
    """A snapshot of the item the stages work on."""
    item = queries.get_item(session, item_id)
    media = json.loads(item.media_json)
    return ItemInfo(item.id, item.sha256, item.ext, item.kind, item.duration, media)


def process(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    item_id: str,
    on_event: StageEvent = lambda stage, kind, done, total: None,
    stages: tuple[Stage, ...] = STAGES,
) -> dict[str, dict[str, Any]]:
    """Run every stage that is not done yet; return each stage's summary."""
    with db() as session:
        info = item_info(session, item_id)
    _sweep_work(settings.work_dir, info.id)
    summaries: dict[str, dict[str, Any]] = {}
    for stage in stages:
        if not applies(stage, info, settings):
            continue
        summaries[stage.name] = run_one(db, blobs, settings, info, stage, on_event)
    finish(db, info.id, summaries)
    return summaries


def applies(stage: Stage, info: ItemInfo, settings: Settings) -> bool:
    """Whether ``stage`` runs on this kind of item with these settings."""
    return info.kind in stage.kinds and not (stage.opt_in and not getattr(settings, stage.opt_in))


def pending(
    session: Session,
    settings: Settings,
    info: ItemInfo,
    stage: Stage,
    inputs: dict[str, str] | None = None,
) -> tuple[dict[str, str], str, dict[str, Any] | None]:
    """The item's current outputs (``inputs``, when read already), the stage's input key over
    them, and the summary of the done run with that key (None: the stage must run)."""
    if inputs is None:
        inputs = queries.current_outputs(session, info.id)
    key = _input_key(stage, inputs, settings)
    done = session.scalars(
        select(StageRun)
        .where(StageRun.item_id == info.id, StageRun.stage == stage.name)
        .where(StageRun.input_key == key, StageRun.status == "done")
        .order_by(StageRun.id.desc())
    ).first()
    summary: dict[str, Any] | None = None if done is None else json.loads(done.summary_json)
    return inputs, key, summary


def run_one(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    info: ItemInfo,
    stage: Stage,
    on_event: StageEvent = lambda stage, kind, done, total: None,
) -> dict[str, Any]:
    """Run ``stage`` of the item unless it is done; return its summary. A result whose inputs
    or outputs changed while it ran (a person's edit, another run) is not recorded, and the
    stage is looked at again over what is current."""
    for _ in range(MAX_SUPERSEDED):
        with db() as session:
            inputs, key, summary = pending(session, settings, info, stage)
        if summary is not None:
            on_event(stage.name, "skip", 1, 1)
            return summary
        on_event(stage.name, "start", 0, 1)
        summary = _run_stage(db, blobs, settings, info, stage, inputs, key, on_event)
        if summary is not None:
            on_event(stage.name, "done", 1, 1)
            return summary
    raise TolmachError(
        f"Stage {stage.name} of item {info.id} was overtaken by changes {MAX_SUPERSEDED} times.",
        "Run the item again once the edits to it have stopped.",
    )


def finish(db: sessionmaker[Session], item_id: str, summaries: dict[str, dict[str, Any]]) -> None:
    """Set the item's status after its stages have run."""
    with db.begin() as session:
        queries.get_item(session, item_id).status = _final_status(summaries)


def _sweep_work(work_dir: Path, item_id: str) -> None:
    """Remove scratch folders a killed run of this item left behind."""
    if work_dir.is_dir():
        for stale in work_dir.glob(f"{item_id}-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _final_status(summaries: dict[str, dict[str, Any]]) -> str:
    if summaries.get("transcribe", {}).get("no_speech"):
        return "no_speech"
    return "processed"


def _run_stage(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    info: ItemInfo,
    stage: Stage,
    inputs: dict[str, str],
    key: str,
    on_event: StageEvent,
) -> dict[str, Any] | None:
    """Run the stage and record its result; None when the result was overtaken (not stored)."""
    started = utcnow()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{info.id}-{stage.name}-", dir=settings.work_dir))
    ctx = StageContext(
        item=info,
        settings=settings,
        blobs=blobs,
        inputs=inputs,
        work_dir=work,
        on_progress=lambda done, total: on_event(stage.name, "progress", done, total),
    )
    run_settings = {k: getattr(settings, k) for k in stage.settings}
    try:
        result = stage.fn()(ctx)
        return _record(db, blobs, settings, info, stage, inputs, key, result, started)
    except TolmachError as exc:
        with db.begin() as session:
            session.add(
                StageRun(
                    item_id=info.id,
                    stage=stage.name,
                    input_key=key,
                    status="failed",
                    started_at=started,
                    tool_version=__version__,
                    error=str(exc),
                    settings_json=json.dumps(run_settings, default=str),
                )
            )
            queries.get_item(session, info.id).status = "failed"
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _overtaken(session: Session, info: ItemInfo, inputs: dict[str, str], names: list[str]) -> bool:
    """Whether what the stage read, or a file it made, changed since it started. The item's row
    is locked first (as an edit locks it), so nothing changes between this look and the
    record."""
    session.execute(update(Item).where(Item.id == info.id).values(status=Item.status))
    now = queries.current_outputs(session, info.id)
    return any(now.get(name) != inputs.get(name) for name in names)


def _record(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    info: ItemInfo,
    stage: Stage,
    inputs: dict[str, str],
    key: str,
    result: StageResult,
    started: datetime,
) -> dict[str, Any] | None:
    """Store the result's files and record the run, in one transaction; None (nothing stored)
    when it was overtaken: a person's edit made while the stage ran is kept, not replaced."""
    model = result.model
    record = stage.recorder()
    with db.begin() as session:
        if _overtaken(session, info, inputs, [*stage.reads, *result.files]):
            log.warning("[%s:%s] inputs or outputs changed while it ran: result dropped",
                        info.id, stage.name)  # fmt: skip
            return None
        stored = {}
        for name, data in result.files.items():
            stored[name] = (
                blobs.put_bytes(data) if isinstance(data, bytes) else blobs.put_file(data)
            )
        if record is not None:
            record(session, settings, info.id, result)
        run = StageRun(
            item_id=info.id,
            stage=stage.name,
            input_key=key,
            status="done",
            started_at=started,
            engine=result.engine,
            model_name=model.name if model else "",
            model_sha256=model.sha256 if model else "",
            settings_json=json.dumps(
                {k: getattr(settings, k) for k in stage.settings}, default=str
            ),
            summary_json=json.dumps(result.summary, default=str),
            tool_version=__version__,
        )
        session.add(run)
        session.flush()
        for name, (sha, size) in stored.items():
            session.add(Output(run_id=run.id, name=name, sha256=sha, size=size))
        custody.append(
            session,
            kind="processed",
            actor=settings.operator,
            item_id=info.id,
            subject=stage.name,
            detail={
                "stage": stage.name,
                "run": run.id,
                "outputs": {name: sha for name, (sha, _) in sorted(stored.items())},
            },
        )
    log.info("[%s:%s] done: %s", info.id, stage.name, sorted(stored))
    return result.summary
