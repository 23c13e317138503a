"""Analysis commands: ``analyse`` (entities, claims), ``links`` (links, retractions), the
analysis part of ``show``, and ``ingest --text`` for statements that arrive as text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tolmach.analysis import store
from tolmach.cli_base import JsonOpt, app, emit, err, handled, out, report_ingested, workspace
from tolmach.errors import InputError, NotFoundError
from tolmach.pipeline.text_item import ingest_text
from tolmach.store import queries
from tolmach.workspace import Workspace


def ingest_text_command(text: Path | None, lang: str, as_json: bool) -> None:
    """``tolmach ingest --text FILE --lang ru|uk``: store a statement that arrived as text."""
    if text is None:
        raise InputError("Nothing to ingest.", "Give a file, a URL, or --text FILE --lang ru|uk.")
    ws = workspace()
    ingested = ingest_text(ws.db, ws.blobs, ws.settings, text, lang)
    report_ingested(ingested, as_json, "text item")


def _analysis(ws: Workspace, item: str) -> tuple[str, dict[str, Any]]:
    with ws.db() as session:
        item_id = queries.get_item(session, item).id
    data = store.analysis_of(ws, item_id)
    if data is None:
        raise NotFoundError(
            f"Item {item_id} has no analysis yet.", f"Run `tolmach process {item_id}` first."
        )
    return item_id, data


def _when(claim: dict[str, Any]) -> str:
    if claim.get("t_start") is None:
        return "untimed"
    return f"{claim['t_start']:.1f}-{claim['t_end']:.1f} s"


def _learned(claim: dict[str, Any]) -> str:
    """What the learned models changed in a claim, if anything."""
    said = []
    if claim.get("method") == "model":
        said.append(f"topic by model, p {claim['topic_p']:.2f}")
    if claim.get("rule_stance"):
        said.append(f"stance by model, p {claim['stance_p']:.2f}, rules: {claim['rule_stance']}")
    return f"       ({'; '.join(said)})\n" if said else ""


def print_claims(data: dict[str, Any]) -> None:
    for e in data["named"]:
        spell = ", ".join(e["spellings"])
        out.print(f"  {e['kind']:<12} {e['english']}  ({spell})", highlight=False, markup=False)
    for c in data["claims"]:
        blanket = " (blanket)" if c["blanket"] else ""
        out.print(
            f"  #{c['id']:<3} {c['stance']}{blanket} / {c['topic']}  [{_when(c)}]\n{_learned(c)}"
            f"       {c['text']}\n       {c['english'] or '-'}",
            highlight=False,
            markup=False,
        )
    if data.get("note"):
        out.print(f"  {data['note']}", highlight=False, markup=False)


def print_links(result: dict[str, Any]) -> None:
    for r in result["links"]:
        state = "confirmed" if r.get("confirmed") else "suggested"
        out.print(
            f"  {r['kind']:<15} {r['item_id']} -> {r['other_id']}  {state}  score {r['score']}",
            highlight=False,
        )
    titles = {
        "retracted": "explicitly retracted",
        "blanket": "covered only by a blanket retraction",
        "never_addressed": "never addressed",
    }
    for view in result["retractions"]:
        out.print(f"[bold]{view['later']} on {view['earlier']}[/]", highlight=False)
        for group, title in titles.items():
            out.print(f"  [bold]{title}[/] ({len(view[group])})")
            for entry in view[group]:
                c = entry["claim"]
                by = "; ".join(b["text"] for b in entry["by"])
                out.print(
                    f"    {c['topic']}: {c['text']} [{_when(c)}]\n      {c['english'] or '-'}"
                    + (f"\n      by: {by}" if by else ""),
                    highlight=False,
                    markup=False,
                )


@app.command()
@handled
def analyse(
    item: Annotated[str, typer.Argument(help="Item id (or a prefix).")], as_json: JsonOpt = False
) -> None:
    """Entities and claims of ITEM (machine output, unreviewed)."""
    item_id, data = _analysis(workspace(), item)
    if as_json:
        emit({"item_id": item_id, **data})
        return
    out.print(f"[bold]item[/] {item_id}  language {data['language']}", highlight=False)
    print_claims(data)


@app.command()
@handled
def links(
    item: Annotated[str, typer.Argument(help="Item id (or a prefix).")],
    confirm: Annotated[
        str | None, typer.Option(help="Confirm the link of this kind to --other.")
    ] = None,
    other: Annotated[str | None, typer.Option(help="The other item of --confirm.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Links of ITEM to other items, and what the later of each pair retracts."""
    ws = workspace()
    if confirm is not None:
        if other is None:
            raise InputError("--confirm needs --other ITEM.", "Name the other item of the link.")
        with ws.db() as session:
            a = queries.get_item(session, item).id
            b = queries.get_item(session, other).id
        store.confirm(ws, a, b, confirm)
        err.print(f"confirmed: {confirm} between {a} and {b}", highlight=False)
    result = store.report(ws, item)
    if as_json:
        emit(result)
        return
    print_links(result)


@app.command()
@handled
def claims(
    topic: Annotated[str | None, typer.Option(help="Only this topic (e.g. water).")] = None,
    stance: Annotated[str | None, typer.Option(help="Only this stance (e.g. complaint).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Claims across all analysed items, by topic and stance."""
    found = store.find_claims(workspace(), topic, stance, limit)
    if as_json:
        emit(found)
        return
    for c in found:
        out.print(
            f"{c['item_id']} #{c['id']:<3} {c['stance']} / {c['topic']}  {c['text']}",
            highlight=False,
            markup=False,
        )


def print_analysis(item_id: str) -> None:
    """The analysis part of ``tolmach show``: nothing when the item has no analysis."""
    ws = workspace()
    data = store.analysis_of(ws, item_id)
    if data is None:
        return
    out.print("[bold]analysis[/] (machine output, unreviewed)")
    print_claims(data)
    print_links(store.report(ws, item_id))
