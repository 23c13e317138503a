"""Routes of the desk: the list of items, an item's workspace and segment edits.

Pages (viewer): ``/items`` (filters ``language``, ``review``, ``page``) and ``/items/{id}``:
the original in a player with source and English WebVTT tracks, the bilingual transcript
beside it (desk.js keeps it in step with playback; ``?t=SECONDS`` seeks on load), and the
review and connections panels loaded by htmx. The original is served with HTTP Range support.

Editors change a segment in place: ``GET /items/{id}/segments/{n}/edit?field=source|english``
gives the form, ``POST /items/{id}/segments/{n}`` saves it (:mod:`tolmach.edits`) and answers
with the updated row (htmx) or a redirect to the item. JSON: ``/api/items``,
``/api/items/{id}``, ``/api/items/{id}/segments`` and ``PATCH /api/items/{id}/segments/{n}``.
"""

from __future__ import annotations

import mimetypes
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach import edits
from tolmach.errors import InputError, NotFoundError
from tolmach.review import words as review_words
from tolmach.store.desk import REVIEW_STATUSES, Job
from tolmach.web import itemviews
from tolmach.web.deps import DB, Viewer, get_desk, kept_page, render, require
from tolmach.web.itemviews import FLAG_HINTS, clock

router = APIRouter()
Reader = Annotated[Viewer, Depends(require("viewer"))]
Editor = Annotated[Viewer, Depends(require("editor"))]
TRACKS = ("source", "english")
STATUSES = [(s, review_words(s)) for s in REVIEW_STATUSES]


class SegmentEdit(BaseModel):
    field: str = ""
    text: str = ""


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def _number(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InputError(f"Segment {raw!r} is not a segment number.", "Use 0, 1, 2...") from None


@router.get("/items", include_in_schema=False)
async def items_page(
    request: Request, who: Reader, language: str = "", review: str = "", page: str = "1"
) -> Response:
    def build(session: Session, shown: Viewer) -> Response:
        number = itemviews.parse_page(page)
        found = itemviews.list_items(session, language=language, review=review, page=number)
        ctx = {"found": found, "language": language, "review": review, "clock": clock}
        ctx |= {"statuses": STATUSES, "words": review_words}
        return render(request, "items/list.html", ctx, who=shown)

    return await kept_page(request, who, build)


@router.get("/items/{item_id}", include_in_schema=False)
async def item_page(request: Request, item_id: str, who: Reader) -> Response:
    def build(session: Session, shown: Viewer) -> Response:
        facts = itemviews.item_facts(session, item_id)
        language, lines = itemviews.bilingual(get_desk(request).ws.blobs, facts.outputs)
        busy = Job.status.in_(("queued", "running"))
        jobs = session.scalars(select(Job).where(Job.item_id == facts.row.id, busy)).all()
        ctx = _line_ctx(shown, facts.row.id, facts.row.kind, language)
        ctx |= {"facts": facts, "row": facts.row, "lines": lines, "jobs": jobs}
        return render(request, "items/item.html", ctx, who=shown)

    return await kept_page(request, who, build)


@router.get("/items/{item_id}/media/original", include_in_schema=False)
def original(request: Request, item_id: str, who: Reader, session: DB) -> Response:
    facts = itemviews.item_facts(session, item_id)
    path = get_desk(request).ws.blobs.path(facts.sha256)  # by the hash the database holds
    if not path.is_file():
        raise NotFoundError(f"The original of item {facts.row.id} is missing from the store.")
    kind = "text/plain; charset=utf-8" if facts.row.kind == "text" else ""
    kind = kind or mimetypes.guess_type(f"original.{facts.ext}")[0] or ""
    if kind.startswith(("video/", "audio/", "text/plain")):
        return FileResponse(path, media_type=kind)
    return FileResponse(
        path, filename=f"original.{facts.ext}", media_type="application/octet-stream"
    )


@router.get("/items/{item_id}/tracks/{name}.vtt", include_in_schema=False)
def track(request: Request, item_id: str, name: str, who: Reader, session: DB) -> Response:
    if name not in TRACKS:
        raise NotFoundError(f"There is no {name!r} track.", "The tracks are source and english.")
    facts = itemviews.item_facts(session, item_id)
    sha = facts.outputs.get(f"{name}.vtt")
    if sha is None:
        raise NotFoundError(f"Item {facts.row.id} has no {name} subtitles yet.")
    data = get_desk(request).ws.blobs.read_bytes(sha)
    return Response(data, media_type="text/vtt; charset=utf-8")


@router.get("/items/{item_id}/segments/{number}", include_in_schema=False)
def segment_row(request: Request, item_id: str, number: str, who: Reader, session: DB) -> Response:
    return _row(request, session, who, item_id, _number(number))


@router.get("/items/{item_id}/segments/{number}/edit", include_in_schema=False)
def edit_form(
    request: Request, item_id: str, number: str, who: Editor, session: DB, field: str = "english"
) -> Response:
    if field not in edits.FILES:
        raise InputError(f"Unknown field {field!r}.", "Edit either 'source' or 'english'.")
    facts = itemviews.item_facts(session, item_id)
    language, lines = itemviews.bilingual(get_desk(request).ws.blobs, facts.outputs)
    line = itemviews.line(lines, _number(number))
    text = line.source if field == "source" else line.english or ""
    return _form(request, who, facts, language, line, field, text)


@router.post("/items/{item_id}/segments/{number}", include_in_schema=False)
def save(
    request: Request,
    item_id: str,
    number: str,
    who: Editor,
    session: DB,
    field: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    desk = get_desk(request)
    facts = itemviews.item_facts(session, item_id)
    n = _number(number)
    try:
        edit = edits.edit_segment(desk.ws, desk.jobs, facts.row.id, n, field, text, by=who.name)
    except InputError as exc:
        language, lines = itemviews.bilingual(desk.ws.blobs, facts.outputs)
        found = [line for line in lines if line.id == n]
        if not found or field not in edits.FILES:
            raise
        error = f"{exc.message} {exc.hint}".strip()
        answer = _form(request, who, facts, language, found[0], field, text, error, 400)
        answer.headers["X-Desk-Fragment"] = "1"  # desk.js swaps it in: the form with its error
        return answer
    if not _htmx(request):
        return RedirectResponse(f"/items/{facts.row.id}#seg-{n}", status_code=303)
    with desk.ws.db() as fresh:  # sees what the edit committed
        return _row(request, fresh, who, facts.row.id, n, edit.job_id)


@router.get("/api/items")
def api_items(
    who: Reader, session: DB, language: str = "", review: str = "", page: str = "1"
) -> dict[str, Any]:
    """Items, newest first, 50 a page; filters: source ``language``, ``review`` status."""
    found = itemviews.list_items(
        session, language=language, review=review, page=itemviews.parse_page(page)
    )
    rows = [itemviews.Facts.row_json(r) for r in found.rows]
    return {"items": rows, "page": found.page, "pages": found.pages, "total": found.total}


@router.get("/api/items/{item_id}")
def api_item(item_id: str, who: Reader, session: DB) -> dict[str, Any]:
    """An item's facts, current outputs (name -> sha256) and review status."""
    return itemviews.item_facts(session, item_id).as_json()


@router.get("/api/items/{item_id}/segments")
def api_segments(request: Request, item_id: str, who: Reader, session: DB) -> dict[str, Any]:
    """The item's segments in both languages, with reviewed and fidelity flags."""
    facts = itemviews.item_facts(session, item_id)
    language, lines = itemviews.bilingual(get_desk(request).ws.blobs, facts.outputs)
    return {
        "item_id": facts.row.id,
        "language": language,
        "segments": [asdict(line) for line in lines],
    }


@router.patch("/api/items/{item_id}/segments/{number}")
def api_edit(
    request: Request, item_id: str, number: str, body: SegmentEdit, who: Editor
) -> dict[str, Any]:
    """Change a segment's ``source`` text or its ``english``; answers with the segment and the
    job that makes the subtitles, clip and analysis again."""
    desk = get_desk(request)
    n = _number(number)
    edit = edits.edit_segment(desk.ws, desk.jobs, item_id, n, body.field, body.text, by=who.name)
    with desk.ws.db() as session:
        facts = itemviews.item_facts(session, edit.item_id)
    line = itemviews.line(itemviews.bilingual(desk.ws.blobs, facts.outputs)[1], n)
    return {"item_id": edit.item_id, "segment": asdict(line), "job_id": edit.job_id}


def _line_ctx(who: Viewer, item_id: str, kind: str, language: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "timed": kind != "text",
        "language": language,
        "can_edit": who.can("editor"),
        "clock": clock,
        "flag_hints": FLAG_HINTS,
    }


def _row(
    request: Request,
    session: Session,
    who: Viewer,
    item_ref: str,
    number: int,
    job_id: int | None = None,
) -> Response:
    facts = itemviews.item_facts(session, item_ref)
    language, lines = itemviews.bilingual(get_desk(request).ws.blobs, facts.outputs)
    ctx = _line_ctx(who, facts.row.id, facts.row.kind, language)
    ctx |= {"line": itemviews.line(lines, number), "job_id": job_id}
    return render(request, "items/_line.html", ctx)


def _form(
    request: Request,
    who: Viewer,
    facts: itemviews.Facts,
    language: str,
    line: itemviews.Line,
    field: str,
    text: str,
    error: str = "",
    status: int = 200,
) -> Response:
    ctx = _line_ctx(who, facts.row.id, facts.row.kind, language)
    ctx |= {"line": line, "field": field, "text": text, "error": error}
    template = "items/_edit.html" if _htmx(request) else "items/edit.html"
    return render(request, template, ctx, status)
