"""Run the stages of an item in order, skipping any whose inputs and settings are unchanged.

Each stage run is keyed by the sha256 of what it reads (input blobs, its settings, the tool
version). Outputs are written to the blob store first and recorded in one transaction at the
end, so a crash or kill in the middle of a stage leaves no recorded output and the same
command again simply runs that stage again.
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
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody
from tolmach.config import Settings
from tolmach.errors import TolmachError
from tolmach.pipeline.context import ItemInfo, StageContext, StageResult
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Output, StageRun, utcnow

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


def _item_info(session: Session, item_id: str) -> ItemInfo:
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
        info = _item_info(session, item_id)
    _sweep_work(settings.work_dir, info.id)
    summaries: dict[str, dict[str, Any]] = {}
    for stage in stages:
        if info.kind not in stage.kinds or (stage.opt_in and not getattr(settings, stage.opt_in)):
            continue
        with db() as session:
            inputs = queries.current_outputs(session, info.id)
            key = _input_key(stage, inputs, settings)
            done = session.scalars(
                select(StageRun)
                .where(StageRun.item_id == info.id, StageRun.stage == stage.name)
                .where(StageRun.input_key == key, StageRun.status == "done")
                .order_by(StageRun.id.desc())
            ).first()
            if done is not None:
                summaries[stage.name] = json.loads(done.summary_json)
                on_event(stage.name, "skip", 1, 1)
                continue
        on_event(stage.name, "start", 0, 1)
        summaries[stage.name] = _run_stage(db, blobs, settings, info, stage, inputs, key, on_event)
        on_event(stage.name, "done", 1, 1)
    with db.begin() as session:
        queries.get_item(session, info.id).status = _final_status(summaries)
    return summaries


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
) -> dict[str, Any]:
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
        stored = {}
        for name, data in result.files.items():
            stored[name] = (
                blobs.put_bytes(data) if isinstance(data, bytes) else blobs.put_file(data)
            )
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
    model = result.model
    record = stage.recorder()
    with db.begin() as session:
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
            settings_json=json.dumps(run_settings, default=str),
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
