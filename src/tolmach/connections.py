"""Connections on the desk: an item's links to other items (with the claim-by-claim
retraction view `tolmach links` shows), confirming a suggested link, and entity pages that
follow one named unit, place or person across items in capture order.

    links_of(ws, item_id)["retractions"][0]["never_addressed"]    # claims nothing took back
    confirm(ws, item_id, other_id, "retracts", actor="olena")     # custody entry too
    with ws.db() as session:
        timeline(session, "unit", "96th Regiment")                # [{item_id, captured_at, ...}]
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tolmach import custody
from tolmach.analysis import store
from tolmach.errors import InputError, NotFoundError
from tolmach.store import queries
from tolmach.store.desk import EntityRow
from tolmach.store.tables import Capture, Item
from tolmach.workspace import Workspace

GROUPS = {
    "retracted": "Explicitly retracted",
    "blanket": "Covered only by a blanket retraction",
    "never_addressed": "Never addressed",
}


def links_of(ws: Workspace, item_ref: str) -> dict[str, Any]:
    """The item's links (both directions) and retraction views, as ``tolmach links`` gives
    them; for an item with no analysis, only its stored links (near-duplicates)."""
    with ws.db() as session:
        item_id = queries.get_item(session, item_ref).id
    if store.analysis_of(ws, item_id) is not None:
        return store.report(ws, item_id)
    with ws.db() as session:
        found = store.stored_links(session, item_id)
    return {"item_id": item_id, "links": found, "retractions": []}


def confirm(ws: Workspace, item_ref: str, other_ref: str, kind: str, actor: str) -> None:
    """Confirm a suggested link (as ``tolmach links --confirm``) and record who did."""
    if not kind.strip():
        raise InputError("Say which link to confirm.", "Give its kind, e.g. retracts.")
    with ws.db() as session:
        a = queries.get_item(session, item_ref).id
        b = queries.get_item(session, other_ref).id
    store.confirm(ws, a, b, kind)
    with ws.db.begin() as session:
        custody.append(
            session,
            kind="link-confirmed",
            actor=actor,
            item_id=a,
            subject=kind,
            detail={"other": b, "kind": kind},
        )


def _first_capture() -> Any:
    return (
        select(Capture.item_id, func.min(Capture.captured_at).label("at"))
        .group_by(Capture.item_id)
        .subquery()
    )


def timeline(session: Session, kind: str, name: str) -> list[dict[str, Any]]:
    """Every item that names the entity, in the order the items were captured."""
    first = _first_capture()
    rows = session.execute(
        select(EntityRow, Item.kind, first.c.at)
        .join(Item, Item.id == EntityRow.item_id)
        .join(first, first.c.item_id == EntityRow.item_id, isouter=True)
        .where(EntityRow.kind == kind, EntityRow.name == name)
        .order_by(func.coalesce(first.c.at, Item.created_at), EntityRow.item_id)
    ).all()
    if not rows:
        raise NotFoundError(
            f"No item names the {kind} {name!r}.", "See the list of entities at /entities."
        )
    return [
        {
            "item_id": e.item_id,
            "item_kind": item_kind,
            "captured_at": custody.iso(at) if at is not None else None,
            "source": e.source,
            "count": e.count,
            "t_start": e.t_start,
        }
        for e, item_kind, at in rows
    ]


def named_in(session: Session, item_id: str) -> list[dict[str, Any]]:
    """The entities one item names, for links to their pages."""
    rows = session.scalars(
        select(EntityRow)
        .where(EntityRow.item_id == item_id)
        .order_by(EntityRow.kind, EntityRow.name)
    )
    return [{"kind": e.kind, "name": e.name, "count": e.count} for e in rows]


def index(session: Session) -> list[dict[str, Any]]:
    """Every entity named in any item: kind, name, how many items and mentions."""
    rows = session.execute(
        select(
            EntityRow.kind,
            EntityRow.name,
            func.count(func.distinct(EntityRow.item_id)),
            func.sum(EntityRow.count),
        )
        .group_by(EntityRow.kind, EntityRow.name)
        .order_by(EntityRow.kind, EntityRow.name)
    ).all()
    return [
        {"kind": kind, "name": name, "items": items, "mentions": int(mentions or 0)}
        for kind, name, items, mentions in rows
    ]
