"""Links and retraction views over the store: reads each item's analysis.json, writes Link rows.

``refresh`` compares one item with every other analysed item and writes the suggested links
(kinds in ``links.KINDS``); a link a person has confirmed keeps ``confirmed: true`` when it is
suggested again. ``report`` gives an item's links and, for each linked pair, the retraction
view of the earlier item's claims by the later one's.

    report(ws, "3f2a9c01b7de")   # {"item_id": ..., "links": [...], "retractions": [...]}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tolmach.analysis import links, retractions
from tolmach.errors import NotFoundError
from tolmach.store import queries
from tolmach.store.tables import ClaimRow, Item, Link
from tolmach.workspace import Workspace


def analysis_of(ws: Workspace, item_id: str) -> dict[str, Any] | None:
    with ws.db() as session:
        sha = queries.current_outputs(session, item_id).get("analysis.json")
    if sha is None:
        return None
    data: dict[str, Any] = json.loads(ws.blobs.read_bytes(sha))
    return data


def _posted(item: Item) -> tuple[datetime, str]:
    """When and by which account an item was posted, from its URL captures' page info;
    the time it was first captured (and no account) where none says."""
    for cap in item.captures:
        page = json.loads(cap.page_json or "{}")
        account = str(page.get("uploader_id") or page.get("uploader") or "")
        posted = page.get("posted_at")
        if isinstance(posted, str) and posted:
            try:
                at = datetime.fromisoformat(posted.replace("Z", "+00:00"))
            except ValueError:
                continue
            at = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
            return at, account
        if account:
            return item.created_at, account
    return item.created_at, ""


def _facts(ws: Workspace) -> dict[str, links.ItemFacts]:
    with ws.db() as session:
        items = [(i.id, *_posted(i)) for i in session.scalars(select(Item)).all()]
    out: dict[str, links.ItemFacts] = {}
    for item_id, at, account in items:
        data = analysis_of(ws, item_id)
        if data is not None:
            out[item_id] = links.ItemFacts(item_id, at, data, account)
    return out


def refresh(ws: Workspace, item_ref: str) -> list[links.Suggested]:
    """Suggest the links between ``item_ref`` and every other analysed item and store them."""
    with ws.db() as session:
        item_id = queries.get_item(session, item_ref).id
    facts = _facts(ws)
    if item_id not in facts:
        raise NotFoundError(
            f"Item {item_id} has no analysis yet.", f"Run `tolmach process {item_id}` first."
        )
    found = [
        s
        for other, f in facts.items()
        if other != item_id
        for s in links.suggest(facts[item_id], f)
    ]
    with ws.db.begin() as session:
        old = session.scalars(
            select(Link).where(
                Link.kind.in_(links.KINDS),
                (Link.item_id == item_id) | (Link.other_id == item_id),
            )
        ).all()
        confirmed = {
            (r.item_id, r.other_id, r.kind)
            for r in old
            if json.loads(r.detail_json).get("confirmed")
        }
        session.execute(delete(Link).where(Link.id.in_([r.id for r in old])))
        session.flush()
        for s in found:
            detail = s.detail | {"confirmed": (s.item_id, s.other_id, s.kind) in confirmed}
            session.add(
                Link(
                    item_id=s.item_id,
                    other_id=s.other_id,
                    kind=s.kind,
                    score=s.score,
                    detail_json=json.dumps(detail, ensure_ascii=False),
                )
            )
    return found


def confirm(ws: Workspace, item_id: str, other_id: str, kind: str) -> None:
    """Mark a suggested link as confirmed by a person (either direction)."""
    with ws.db.begin() as session:
        row = session.scalars(
            select(Link).where(
                Link.kind == kind,
                ((Link.item_id == item_id) & (Link.other_id == other_id))
                | ((Link.item_id == other_id) & (Link.other_id == item_id)),
            )
        ).first()
        if row is None:
            raise NotFoundError(f"No {kind} link between {item_id} and {other_id}.")
        row.detail_json = json.dumps(json.loads(row.detail_json) | {"confirmed": True})


def stored_links(session: Session, item_id: str) -> list[dict[str, Any]]:
    """The item's stored links of every kind, both directions, oldest first."""
    rows = session.scalars(
        select(Link).where((Link.item_id == item_id) | (Link.other_id == item_id)).order_by(Link.id)
    ).all()
    return [
        {
            "item_id": r.item_id,
            "other_id": r.other_id,
            "kind": r.kind,
            "score": r.score,
            **json.loads(r.detail_json or "{}"),
        }
        for r in rows
    ]


def report(ws: Workspace, item_ref: str) -> dict[str, Any]:
    """An item's links (all kinds, both directions) and the retraction view of each pair."""
    refresh(ws, item_ref)
    with ws.db() as session:
        item_id = queries.get_item(session, item_ref).id
        found = stored_links(session, item_id)
    views = []
    pairs = sorted({(r["other_id"], r["item_id"]) for r in found if r["kind"] in links.KINDS})
    for earlier_id, later_id in pairs:
        earlier, later = analysis_of(ws, earlier_id), analysis_of(ws, later_id)
        if earlier is None or later is None:
            continue
        view = retractions.view(earlier["claims"], later["claims"])
        views.append({"earlier": earlier_id, "later": later_id, **view})
    return {"item_id": item_id, "links": found, "retractions": views}


def find_claims(
    ws: Workspace, topic: str | None = None, stance: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Claims of every analysed item, newest items first, filtered by topic and stance."""
    with ws.db() as session:
        query = select(ClaimRow, Item.created_at).join(Item, Item.id == ClaimRow.item_id)
        if topic:
            query = query.where(ClaimRow.topic == topic)
        if stance:
            query = query.where(ClaimRow.stance == stance)
        rows = session.execute(
            query.order_by(Item.created_at.desc(), ClaimRow.item_id, ClaimRow.number).limit(limit)
        ).all()
        return [
            {"item_id": c.item_id, "id": c.number, "topic": c.topic, "stance": c.stance,
             "blanket": c.blanket, "text": c.text, "english": c.english,
             "t_start": c.t_start, "t_end": c.t_end}
            for c, _ in rows
        ]  # fmt: skip
