"""Commands ``similar`` (an item's near-duplicates) and ``watch`` (has the source deleted it?)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tolmach import similar as similar_mod
from tolmach.cli_base import JsonOpt, app, emit, err, handled, out, workspace
from tolmach.store import queries
from tolmach.watch import ItemReport, parse_every, watch_forever, watch_pass


@app.command()
@handled
def similar(
    item: Annotated[str, typer.Argument(help="Item id (or a prefix).")],
    as_json: JsonOpt = False,
) -> None:
    """List the items that are near-duplicates of ITEM (the same footage, cut or re-encoded)."""
    ws = workspace()
    with ws.db() as session:
        item_id = queries.get_item(session, item).id
        found = similar_mod.links_of(session, item_id)
    if as_json:
        emit({"item_id": item_id, "near_duplicates": found})
        return
    if not found:
        out.print(f"{item_id}: no near-duplicates found", highlight=False)
        return
    table = Table("item", "score", "share of this item", "share of the other", "linked at")
    for f in found:
        table.add_row(
            f["item_id"], f"{f['score']:.2f}", _pct(f["share_this"]), _pct(f["share_other"]),
            f["linked_at"],
        )  # fmt: skip
    out.print(table)


def _pct(share: object) -> str:
    return f"{float(share):.0%}" if isinstance(share, int | float) else "-"


@app.command()
@handled
def watch(
    item: Annotated[
        list[str] | None, typer.Option("--item", help="Check only this item (repeatable).")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(help='Keep watching: a pass every this long ("15m", "2h"); Ctrl-C stops.'),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every captured source URL again: live, deleted by the source, or unreachable.

    A deleted source is recorded with its evidence; the stored copy is kept as it is.
    """
    ws = workspace()
    ids: list[str] | None = None
    if item:
        with ws.db() as session:
            ids = [queries.get_item(session, ref).id for ref in item]
    seconds = parse_every(every) if every is not None else None

    def one_pass() -> list[ItemReport]:
        reports = watch_pass(ws.db, ws.blobs, ws.settings, item_ids=ids, on_item=_print_report)
        if as_json:
            emit([{"item_id": r.item_id, "source_status": r.status, "changed": r.changed,
                   "checks": r.checks} for r in reports])  # fmt: skip
        elif not reports:
            err.print("No item was captured from a URL; nothing to watch.")
        return reports

    def _print_report(report: ItemReport) -> None:
        if as_json:
            return
        for c in report.checks:
            colour = {"live": "green", "deleted": "red"}.get(c["outcome"], "yellow")
            out.print(
                f"{report.item_id}  [{colour}]{c['outcome']}[/]  {escape(c['url'])}  "
                f"({escape(c['reason'])})" + ("  [bold]changed[/]" if report.changed else ""),
                highlight=False,
            )

    if seconds is None:
        one_pass()
    else:
        err.print(f"watching every {every}; Ctrl-C stops", highlight=False)
        watch_forever(one_pass, seconds)
