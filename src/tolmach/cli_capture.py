"""Commands for web captures: `archive check` (WARC, ARC and WACZ files) and `archive export`.

URL capture itself goes through `tolmach ingest URL` and `tolmach run URL`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from tolmach.cli_base import JsonOpt, app, emit, handled, out, workspace
from tolmach.errors import NotFoundError

archive_app = typer.Typer(help="Web archives: check WARC/WACZ files.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


def _as_json(report: Any) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "kind": report.kind,
        "ok": report.ok,
        "records": report.records,
        "types": dict(report.types),
        "pages": report.pages,
        "problems": report.problems,
        "notes": report.notes,
    }


@archive_app.command("check")
@handled
def archive_check(
    files: Annotated[list[Path], typer.Argument(help="WARC, ARC or WACZ files.")],
    as_json: JsonOpt = False,
) -> None:
    """Read every record of FILES, recompute digests and hashes; name what is broken."""
    from tolmach.capture.reader import check

    reports = [check(f) for f in files]
    if as_json:
        emit([_as_json(r) for r in reports])
    else:
        for r in reports:
            types = ", ".join(f"{n} {t}" for t, n in sorted(r.types.items()))
            pages = f", {r.pages} pages" if r.kind == "wacz" else ""
            mark = "[green]ok[/]    " if r.ok else "[red]BROKEN[/]"
            out.print(
                f"{mark} {r.path.name}: {r.kind}, {r.records} records ({types or 'none'}){pages}",
                highlight=False,
            )
            for p in r.problems:
                out.print(f"       [red]problem:[/] {p}", highlight=False)
            for n in r.notes:
                out.print(f"       note: {n}", highlight=False)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@archive_app.command("export")
@handled
def archive_export(
    item: Annotated[str, typer.Argument(help="Item id.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
) -> None:
    """Write the files of ITEM's URL captures (media, WACZ, screenshot, page.json) to --out."""
    from tolmach.store.tables import Capture

    ws = workspace()
    written = 0
    query = select(Capture).where(Capture.item_id.startswith(item), Capture.kind == "url")
    with ws.db() as s:
        rows = [(c.id, json.loads(c.files_json or "[]")) for c in s.scalars(query)]
    if not rows:
        raise NotFoundError(f"No URL capture of item {item}.", "Check the id with `tolmach list`.")
    for cap_id, files in rows:
        folder = out_dir / f"capture-{cap_id}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            (folder / Path(f["name"]).name).write_bytes(ws.blobs.read_bytes(f["sha256"]))
            written += 1
    out.print(f"{written} files written to {out_dir}", highlight=False)
