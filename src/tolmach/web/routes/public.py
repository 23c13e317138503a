"""Routes of the desk: publishing, the public pages of published items, the Atom feed, and
the evidence bundle download.

Anonymous visitors see only published items: ``/p/{id}`` and its media answer 404 for any
other id, valid or not, so the public side says nothing about what the desk holds.
"""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import Response

from tolmach import publish, review
from tolmach.bundle import export_bundle
from tolmach.errors import NotFoundError
from tolmach.store import queries
from tolmach.web.deps import SESSION, Viewer, get_desk, public, render, require
from tolmach.web.routes.review import after_change

router = APIRouter()
EDITOR = Depends(require("editor"))
FEED_SIZE = 50


def base_url(request: Request) -> str:
    """The desk's public address (the setting), else the address this request came to."""
    configured = get_desk(request).settings.web_public_url
    return (configured or str(request.base_url)).rstrip("/")


def _shown(request: Request, session: Session, item_id: str) -> dict[str, Any]:
    shown = publish.public_item(session, get_desk(request).ws.blobs, item_id)
    if shown is None:
        raise NotFoundError("There is no published item here.", "See /published for the list.")
    return shown


@router.post("/items/{item_id}/publish", include_in_schema=False)
def publish_item(
    request: Request, item_id: str, who: Viewer = EDITOR, session: Session = SESSION
) -> Response:
    row = publish.publish(session, item_id, who.name)
    return after_change(request, session, row.item_id)


@router.post("/items/{item_id}/unpublish", include_in_schema=False)
def unpublish_item(
    request: Request, item_id: str, who: Viewer = EDITOR, session: Session = SESSION
) -> Response:
    row = publish.unpublish(session, item_id, who.name)
    return after_change(request, session, row.item_id)


@router.post("/api/items/{item_id}/publish")
def api_publish(item_id: str, who: Viewer = EDITOR, session: Session = SESSION) -> Any:
    """Publish the item: its public page, media and English subtitles become visible to all."""
    row = publish.publish(session, item_id, who.name)
    return review.state(session, row.item_id)


@router.post("/api/items/{item_id}/unpublish")
def api_unpublish(item_id: str, who: Viewer = EDITOR, session: Session = SESSION) -> Any:
    """Take the item off the public side again."""
    row = publish.unpublish(session, item_id, who.name)
    return review.state(session, row.item_id)


@router.get("/published", include_in_schema=False, dependencies=[public])
def published(request: Request, session: Session = SESSION) -> Response:
    blobs = get_desk(request).ws.blobs
    items = [publish.public_item(session, blobs, i) for i in publish.published_ids(session)]
    return render(request, "public/list.html", {"items": [i for i in items if i]})


@router.get("/p/{item_id}", include_in_schema=False, dependencies=[public])
def public_page(request: Request, item_id: str, session: Session = SESSION) -> Response:
    shown = _shown(request, session, item_id)
    jsonld = publish.claim_review(shown, base_url(request))
    return render(request, "public/item.html", {"shown": shown, "jsonld": jsonld})


@router.get("/p/{item_id}/media", include_in_schema=False, dependencies=[public])
def public_media(request: Request, item_id: str, session: Session = SESSION) -> Response:
    shown = _shown(request, session, item_id)
    if shown["kind"] == "text":
        raise NotFoundError("This item is text: it has no media.")
    kind = mimetypes.guess_type(f"media.{shown['ext']}")[0] or "application/octet-stream"
    return FileResponse(get_desk(request).ws.blobs.path(shown["sha256"]), media_type=kind)


@router.get("/p/{item_id}/english.vtt", include_in_schema=False, dependencies=[public])
def public_subtitles(request: Request, item_id: str, session: Session = SESSION) -> Response:
    shown = _shown(request, session, item_id)
    if not shown["english_vtt"]:
        raise NotFoundError("This item has no English subtitles.")
    path = get_desk(request).ws.blobs.path(shown["english_vtt"])
    return FileResponse(path, media_type="text/vtt; charset=utf-8")


@router.get("/feed.atom", include_in_schema=False, dependencies=[public])
def feed(request: Request, session: Session = SESSION) -> Response:
    blobs = get_desk(request).ws.blobs
    ids = publish.published_ids(session)[:FEED_SIZE]
    items = [i for i in (publish.public_item(session, blobs, x) for x in ids) if i]
    body = publish.atom_feed(items, base_url(request))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/items/{item_id}/bundle", include_in_schema=False)
def bundle(request: Request, item_id: str, who: Viewer = EDITOR) -> Response:
    """The item's evidence bundle as a zip download (exporting it is logged in custody)."""
    ws = get_desk(request).ws
    with ws.db() as session:
        item_id = queries.get_item(session, item_id).id
    ws.settings.work_dir.mkdir(parents=True, exist_ok=True)  # beside the store: bundles are big
    folder = Path(tempfile.mkdtemp(prefix="bundle-", dir=ws.settings.work_dir))
    name = f"tolmach-{item_id}-evidence.zip"
    try:
        export_bundle(ws.db, ws.blobs, who.name, item_id, folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
