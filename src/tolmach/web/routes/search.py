"""Routes of the desk: full-text search over every item's segments (viewer and up).

``GET /search`` is the page: the query box and filters, with the results of its query string
rendered in place (so a link to a search works without JavaScript); as you type, htmx asks
``GET /search/results`` for the results fragment alone. ``GET /api/search`` gives the same as
JSON. Query parameters: ``q``, ``language``, ``status``, ``entity``, ``kind``, ``since`` and
``until`` (YYYY-MM-DD capture dates), ``source``, ``page``. Each hit links to
``/items/{id}?t={start}``, which plays the item from that segment.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach import search, search_index
from tolmach.errors import InputError
from tolmach.review import words as review_words
from tolmach.store.desk import REVIEW_STATUSES, EntityRow
from tolmach.web.deps import DB, Viewer, get_desk, kept_page, render, require

router = APIRouter()
Reader = Annotated[Viewer, Depends(require("viewer"))]
FIELDS = ("q", "language", "status", "entity", "kind", "since", "until", "source")
MAX_PAGE = search.CANDIDATES // search.PAGE
STATUSES = [(s, review_words(s)) for s in REVIEW_STATUSES]


def _date(name: str, raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name} {raw!r} is not a date.", "Give it as YYYY-MM-DD.") from None


def parse(params: dict[str, str]) -> search.Query:
    """The query from the request's parameters; one clear error for anything malformed."""
    status = params.get("status", "")
    if status and status not in REVIEW_STATUSES:
        raise InputError(f"Unknown review status {status!r}.", f"Use one of {REVIEW_STATUSES}.")
    try:
        page = int(params.get("page") or 1)
    except ValueError:
        raise InputError("page must be a number.", "Use 1, 2, 3...") from None
    if not 1 <= page <= MAX_PAGE:
        raise InputError(f"page must be 1 to {MAX_PAGE}.", "Narrow the search to see more.")
    since, until = _date("since", params.get("since", "")), _date("until", params.get("until", ""))
    if since and until and since > until:
        raise InputError("since is after until.", "Swap the dates.")
    return search.Query(
        text=params.get("q", ""),
        language=params.get("language", "").strip().lower(),
        status=status,
        entity=params.get("entity", "").strip(),
        entity_kind=params.get("kind", "").strip(),
        since=since,
        until=until,
        source=params.get("source", "").strip(),
        page=page,
    )


def _run(request: Request, session: Session) -> tuple[dict[str, str], search.Results]:
    params = {k: request.query_params.get(k, "") for k in (*FIELDS, "page")}
    query = parse(params)
    ws = get_desk(request).ws
    search_index.ensure_indexed(ws.db, ws.blobs)
    return params, search.search(session, query)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return (
        f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
        if minutes >= 60
        else f"{minutes}:{secs:02d}"
    )


def _context(params: dict[str, str], found: search.Results) -> dict[str, Any]:
    kept = {k: v for k, v in params.items() if k in FIELDS and v}

    def page_link(page: int) -> str:
        return urlencode(kept | {"page": str(page)})

    return {"p": params, "found": found, "page_link": page_link, "clock": _clock}


@router.get("/search", include_in_schema=False)
async def search_page(request: Request, who: Reader) -> Response:
    def build(session: Session, shown: Viewer) -> Response:
        params, found = _run(request, session)
        langs = sorted({"ru", "uk", *search.languages(session).values()} - {""})
        kinds = sorted(session.scalars(select(EntityRow.kind).distinct()))
        ctx = _context(params, found) | {"languages": langs, "kinds": kinds, "statuses": STATUSES}
        return render(request, "search/page.html", ctx, who=shown)

    return await kept_page(request, who, build)


@router.get("/search/results", include_in_schema=False)
async def search_results(request: Request, who: Reader) -> Response:
    def build(session: Session, shown: Viewer) -> Response:
        params, found = _run(request, session)
        return render(request, "search/_results.html", _context(params, found), who=shown)

    return await kept_page(request, who, build)


@router.get("/api/search")
def api_search(request: Request, who: Reader, session: DB) -> dict[str, Any]:
    """Segments matching ``q`` (every word; ``"a phrase"``; ``prefix*``), best first."""
    _, found = _run(request, session)
    return {
        "page": found.page,
        "matches": found.matches,
        "capped": found.capped,
        "more": found.more,
        "hits": [
            {
                "item_id": h.item_id,
                "segment": h.seg,
                "t_start": h.t_start,
                "t_end": h.t_end,
                "source": h.source.striptags(),
                "english": h.english.striptags(),
                "source_html": str(h.source),
                "english_html": str(h.english),
                "origin": h.origin,
                "link": f"/items/{h.item_id}?t={round(h.t_start, 2)}",
            }
            for h in found.hits
        ],
    }
