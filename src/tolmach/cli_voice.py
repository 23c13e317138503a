"""Voice commands: ``voice`` (an English voice-over of an item) and ``narrate`` (a story read
aloud). Both always disclose the AI voice; both warn when no C2PA key is set."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from tolmach.cli_base import JsonOpt, app, emit, err, handled, load_settings, out
from tolmach.cli_progress import StageProgress
from tolmach.pipeline import runner
from tolmach.store import queries
from tolmach.workspace import Workspace

VOICE_FILES = ("english-voice.mp4", "voiceover.wav", "voice.json")
# The stages whose outputs the voice-over reads (translation.json, english.srt), then voice:
# a voice-over does not wait for, or fail with, the fingerprint, render or analysis.
VOICE_PATH = ("probe", "transcribe", "translate", "subtitles", "voice")
EngineOpt = Annotated[str | None, typer.Option(help="Speech engine: piper or espeak.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Copy the voice files here.")]
ModelOpt = Annotated[str | None, typer.Option(help="Piper .onnx voice, or espeak-ng voice.")]


@app.command()
@handled
def voice(
    item: Annotated[str, typer.Argument(help="Item id (or a prefix).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Copy the voice files here.")
    ] = None,
    engine: EngineOpt = None,
    voice_model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make ITEM's English voice-over (transcribe, translate, subtitles first if not done)."""
    settings = load_settings(voice_in_run=True, voice_engine=engine, voice_model=voice_model)
    ws = Workspace.open(settings)
    with ws.db() as session:
        item_id = queries.get_item(session, item).id
    with StageProgress(err, as_json or not err.is_terminal) as progress:
        stages = tuple(s for s in runner.STAGES if s.name in VOICE_PATH)
        summaries = runner.process(ws.db, ws.blobs, settings, item_id, progress.on_event, stages)
    summary = summaries.get("voice", {})
    with ws.db() as session:
        current = queries.current_outputs(session, item_id)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in VOICE_FILES:
            shutil.copyfile(ws.blobs.path(current[name]), out_dir / name)
    if summary.get("warning"):
        err.print(f"[yellow]warning:[/] {summary['warning']}", highlight=False)
    if as_json:
        emit({"item_id": item_id, **summary, "out": str(out_dir) if out_dir else None})
        return
    flagged = summary.get("flagged") or []
    out.print(
        f"[bold]voice[/] {summary.get('engine')} {summary.get('voice')}  "
        f"[bold]segments[/] {summary.get('segments', 0)}  "
        f"[bold]in their slot[/] {summary.get('fit_share', 0):.0%}"
        + (f"  [yellow]flagged[/] {', '.join(str(i) for i in flagged)}" if flagged else ""),
        highlight=False,
    )
    out.print("[bold]disclosed[/] spoken, on screen, in the file's tags", highlight=False)
    if out_dir is not None:
        out.print(f"[bold]files[/] {out_dir}", highlight=False)


@app.command()
@handled
def narrate(
    story: Annotated[Path, typer.Argument(help="The story: Markdown or plain text (UTF-8).")],
    out_file: Annotated[Path, typer.Option("--out", help="The .m4a to write.")],
    engine: EngineOpt = None,
    voice_model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read STORY aloud into an .m4a with one chapter per paragraph (AI voice, disclosed)."""
    from tolmach.voice.narrate import narrate as read_aloud

    settings = load_settings(voice_engine=engine, voice_model=voice_model)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="narrate-", dir=settings.work_dir) as work:
        made = read_aloud(story, out_file, settings, Path(work))
    if made.signed.warning:
        err.print(f"[yellow]warning:[/] {made.signed.warning}", highlight=False)
    if as_json:
        emit(
            {
                "out": str(made.path),
                "duration": round(made.duration, 2),
                "chapters": len(made.chapters),
                "engine": made.engine,
                "voice": made.voice,
                "c2pa": made.signed.to_dict(),
                "timings_s": made.timings_s,
            }
        )
        return
    out.print(
        f"{made.path}  {made.duration:.1f} s, {len(made.chapters)} chapters, "
        f"{made.engine} {made.voice} (AI voice, disclosed)",
        highlight=False,
    )
