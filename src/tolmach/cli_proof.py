"""Commands for the proof layer: `verify`, `verify-bundle`, `stamp` and `anchor`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from tolmach import anchor, bundle, timestamp
from tolmach.cli_base import JsonOpt, app, emit, err, handled, out, workspace
from tolmach.errors import InputError
from tolmach.verify import verify_store


@app.command("verify")
@handled
def verify_cmd(
    as_json: JsonOpt = False,
    anchor_files: Annotated[
        list[Path] | None,
        typer.Option("--anchor", help="An anchor receipt kept outside the store (repeatable)."),
    ] = None,
) -> None:
    """Re-hash every blob and recompute the custody log; list everything changed or missing."""
    receipts = [_read_receipt(p) for p in anchor_files or []]
    ws = workspace()
    quiet = as_json or not err.is_terminal
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress("hashing", *columns, console=err, disable=quiet) as bar:
        task = bar.add_task("hashing", total=None)
        report = verify_store(
            ws.db,
            ws.blobs,
            lambda done, total: bar.update(task, completed=done, total=total),
            receipts,
        )
    ws.close()
    if as_json:
        emit(report.as_json())
    else:
        for f in report.findings:
            out.print(f"[red]{f.kind}[/] {f.subject}: {f.detail}", highlight=False)
        gb = report.bytes / 1e9
        summary = (
            f"{report.blobs} blobs ({gb:.2f} GB), {report.events} custody entries, "
            f"{report.captures} captures, {report.timestamps} timestamps, "
            f"{report.anchors} anchors checked"
        )
        if report.ok:
            out.print(f"[green]intact[/]: {summary}", highlight=False)
        else:
            out.print(f"[red]{len(report.findings)} problems[/]; {summary}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command("verify-bundle")
@handled
def verify_bundle_cmd(
    path: Annotated[Path, typer.Argument(help="An evidence bundle (.zip).")],
    ca: Annotated[
        Path | None, typer.Option(help="Trusted CA certificate (PEM) of the timestamp authority.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check an evidence bundle offline: file hashes, custody chain, timestamp tokens."""
    report = bundle.verify_bundle(path, ca)
    if as_json:
        emit(report.as_json())
    else:
        for problem in report.problems:
            out.print(f"[red]FAIL[/] {problem}", highlight=False)
        for note in report.notes:
            out.print(f"[yellow]note[/] {note}", highlight=False)
        if report.ok:
            out.print(
                f"[green]intact[/]: {report.files} files, {report.entries} custody entries, "
                f"{report.tokens} timestamp tokens checked",
                highlight=False,
            )
    if not report.ok:
        raise typer.Exit(1)


@app.command("stamp")
@handled
def stamp_cmd(
    item: Annotated[str, typer.Argument(help="Item id (or a prefix).")],
    again: Annotated[bool, typer.Option(help="Stamp captures that have a token too.")] = False,
) -> None:
    """Get trusted timestamps (RFC 3161, from tsa_url) for ITEM's capture records."""
    ws = workspace()
    made = timestamp.stamp_item(ws.db, ws.blobs, ws.settings, item, again)
    ws.close()
    if not made:
        out.print("every capture of this item is already timestamped (--again for another)")
    for row in made:
        out.print(
            f"capture {row.capture_id}: timestamped {row.gen_time.isoformat()}Z "
            f"by {row.tsa_url} (token {row.token_sha256[:16]})",
            highlight=False,
        )
    if made:
        out.print(f"{len(made)} capture{'s' if len(made) > 1 else ''} timestamped")


def _read_receipt(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"Cannot read the anchor receipt {path}: {exc}.") from None
    if not isinstance(data, dict) or data.get("schema") != anchor.SCHEMA:
        raise InputError(
            f"{path} is not a tolmach anchor receipt.", "Give a file `anchor --out` wrote."
        )
    return data


@app.command("anchor")
@handled
def anchor_cmd(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the receipt here (keep it elsewhere).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Timestamp the head of the custody log (RFC 3161, from tsa_url), so that deleting its
    newest entries shows in `tolmach verify`."""
    ws = workspace()
    row = anchor.make_anchor(ws.db, ws.blobs, ws.settings)
    data = anchor.receipt(row, ws.blobs)
    ws.close()
    if out_file is not None:
        out_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        emit(data)
    else:
        out.print(
            f"custody log anchored at entry {row.event_id} ({row.head_hash[:16]}), "
            f"{data['gen_time']} by {row.tsa_url}",
            highlight=False,
        )
