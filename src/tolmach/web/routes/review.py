"""Routes of the desk: verification of an item (status, assignee, notes, history).

The panel is an htmx fragment the item page loads; its forms post here and get the panel
back (htmx), or a redirect to the panel's own page (a browser without scripts). A status
change needs a note. JSON twins live under /api.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach import publish, review
from tolmach.store import queries
from tolmach.store.desk import REVIEW_STATUSES
from tolmach.web.deps import SESSION, Viewer, render, require

router = APIRouter()
VIEWER = Depends(require("viewer"))
EDITOR = Depends(require("editor"))
STATUS_CHOICES = [(s, review.words(s)) for s in REVIEW_STATUSES]


class StatusChange(BaseModel):
    status: str = ""
    note: str = ""


class NewNote(BaseModel):
    text: str = ""


class Assignment(BaseModel):
    assignee: str = ""  # an account name, or "" for nobody


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def panel(request: Request, session: Session, item_ref: str) -> Response:
    """The review panel of an item: a fragment for htmx, else a page around it."""
    item = queries.get_item(session, item_ref)
    item_id = item.id
    entries = review.history(session, item_id)
    ctx: dict[str, Any] = {
        "item_id": item_id,
        "publishable": publish.can_publish(session, item),
        "state": review.state(session, item_id),
        "history": [e | {"summary": review.summary(e)} for e in entries],
        "accounts": review.accounts(session),
        "statuses": STATUS_CHOICES,
    }
    template = "review/panel.html" if is_htmx(request) else "review/page.html"
    return render(request, template, ctx)


def after_change(request: Request, session: Session, item_id: str) -> Response:
    if is_htmx(request):
        return panel(request, session, item_id)
    return RedirectResponse(f"/items/{item_id}/review", status_code=303)


@router.get("/items/{item_id}/review", include_in_schema=False)
def review_panel(
    request: Request,
    item_id: str,
    who: Viewer = VIEWER,
    session: Session = SESSION,
) -> Response:
    return panel(request, session, item_id)


@router.post("/items/{item_id}/status", include_in_schema=False)
def change_status(
    request: Request,
    item_id: str,
    status: str = Form(""),
    note: str = Form(""),
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> Response:
    row = review.set_status(session, item_id, status, note, who.name)
    return after_change(request, session, row.item_id)


@router.post("/items/{item_id}/assign", include_in_schema=False)
def assign(
    request: Request,
    item_id: str,
    assignee: str = Form(""),
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> Response:
    row = review.assign(session, item_id, assignee, who.name)
    return after_change(request, session, row.item_id)


@router.post("/items/{item_id}/notes", include_in_schema=False)
def add_note(
    request: Request,
    item_id: str,
    text: str = Form(""),
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> Response:
    noted = review.add_note(session, item_id, text, who.name)
    return after_change(request, session, noted.item_id)


@router.get("/api/items/{item_id}/review")
def api_review(item_id: str, who: Viewer = VIEWER, session: Session = SESSION) -> dict[str, Any]:
    """The item's review status, assignee, publication and notes."""
    return review.state(session, item_id)


@router.post("/api/items/{item_id}/status")
def api_status(
    item_id: str,
    change: StatusChange,
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Change the item's status; ``note`` (why) is required."""
    row = review.set_status(session, item_id, change.status, change.note, who.name)
    return review.state(session, row.item_id)


@router.post("/api/items/{item_id}/assign")
def api_assign(
    item_id: str,
    change: Assignment,
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Assign the item to an account (or to nobody with an empty name)."""
    row = review.assign(session, item_id, change.assignee, who.name)
    return review.state(session, row.item_id)


@router.post("/api/items/{item_id}/notes", status_code=201)
def api_note(
    item_id: str,
    note: NewNote,
    who: Viewer = EDITOR,
    session: Session = SESSION,
) -> dict[str, Any]:
    """Add a note to the item."""
    noted = review.add_note(session, item_id, note.text, who.name)
    return {"id": noted.id, "item_id": noted.item_id, "author": noted.author, "text": noted.text}


@router.get("/api/items/{item_id}/history")
def api_history(
    item_id: str, who: Viewer = VIEWER, session: Session = SESSION
) -> list[dict[str, Any]]:
    """Every custody entry of the item, oldest first."""
    return review.history(session, queries.get_item(session, item_id).id)
