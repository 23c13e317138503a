"""Routes of the desk: an item's connections (links, the retraction view) and entity pages.

The connections panel is an htmx fragment the item page loads; links are suggestions until
an editor confirms them. Entity pages follow one name across items in capture order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach import connections
from tolmach.web.deps import SESSION, Viewer, get_desk, render, require
from tolmach.web.routes.review import is_htmx

router = APIRouter()
VIEWER = Depends(require("viewer"))
EDITOR = Depends(require("editor"))
KIND_WORDS = {
    "same-unit": "Same unit",
    "follow-up": "Follow-up",
    "retracts": "Retracts",
    "near-duplicate": "Near-duplicate",
}


def _panel(request: Request, item_ref: str) -> Response:
    ws = get_desk(request).ws
    found = connections.links_of(ws, item_ref)
    item_id = found["item_id"]
    with ws.db() as session:
        named = connections.named_in(session, item_id)
    rows = [
        r
        | {
            "other": r["other_id"] if r["item_id"] == item_id else r["item_id"],
            "later": r["item_id"] == item_id,
            "kind_words": KIND_WORDS.get(r["kind"], r["kind"]),
        }
        for r in found["links"]
    ]
    ctx: dict[str, Any] = {
        "item_id": item_id,
        "links": rows,
        "retractions": found["retractions"],
        "groups": connections.GROUPS,
        "named": named,
    }
    page = "connections/panel.html" if is_htmx(request) else "connections/page.html"
    return render(request, page, ctx)


@router.get("/items/{item_id}/connections", include_in_schema=False)
def connections_panel(request: Request, item_id: str, who: Viewer = VIEWER) -> Response:
    return _panel(request, item_id)


@router.post("/items/{item_id}/links/{other_id}/confirm", include_in_schema=False)
def confirm_link(
    request: Request, item_id: str, other_id: str, kind: str = Form(""), who: Viewer = EDITOR
) -> Response:
    connections.confirm(get_desk(request).ws, item_id, other_id, kind, who.name)
    if is_htmx(request):
        return _panel(request, item_id)
    return RedirectResponse(f"/items/{item_id}/connections", status_code=303)


class Confirmation(BaseModel):
    kind: str = ""  # same-unit, follow-up, retracts, near-duplicate


@router.post("/api/items/{item_id}/links/{other_id}/confirm")
def api_confirm_link(
    request: Request, item_id: str, other_id: str, body: Confirmation, who: Viewer = EDITOR
) -> dict[str, Any]:
    """Confirm a suggested link (a person has checked it); returns the item's links."""
    ws = get_desk(request).ws
    connections.confirm(ws, item_id, other_id, body.kind, who.name)
    return connections.links_of(ws, item_id)


@router.get("/entities", include_in_schema=False)
def entity_index(request: Request, who: Viewer = VIEWER, session: Session = SESSION) -> Response:
    return render(request, "connections/entities.html", {"entities": connections.index(session)})


@router.get("/entities/{kind}/{name:path}", include_in_schema=False)
def entity_page(
    request: Request, kind: str, name: str, who: Viewer = VIEWER, session: Session = SESSION
) -> Response:
    ctx = {"kind": kind, "name": name, "mentions": connections.timeline(session, kind, name)}
    return render(request, "connections/entity.html", ctx)


@router.get("/api/items/{item_id}/links")
def api_links(request: Request, item_id: str, who: Viewer = VIEWER) -> dict[str, Any]:
    """The item's links (both directions, confirmed or suggested) and retraction views."""
    return connections.links_of(get_desk(request).ws, item_id)


@router.get("/api/entities/{kind}/{name:path}")
def api_entity(
    kind: str, name: str, who: Viewer = VIEWER, session: Session = SESSION
) -> dict[str, Any]:
    """Every item that names the entity, in capture order, with its first mention."""
    return {"kind": kind, "name": name, "mentions": connections.timeline(session, kind, name)}
