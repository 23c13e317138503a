"""URL capture: a post's page and media -> an item, with the page archived and photographed.

Everything is gathered in a temporary folder first: the page (fetched and recorded as WARC),
the media (yt-dlp), its facts (ffprobe), the media's own HTTP exchange (WARC), the WACZ and a
screenshot. Only when all of it checks out are the files put in the blob store and the rows
written, through the same code as a file ingest, so bad input stores nothing. Every failed
attempt is written to the custody log ("capture-failed", with the URL and the reason).

    done = capture_url(db, blobs, settings, "https://t.me/unit/123")
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tolmach import custody
from tolmach.capture import archive, download, fetch, page, screenshot
from tolmach.config import Settings
from tolmach.errors import InputError, TolmachError
from tolmach.pipeline.ingest import (
    CaptureRow,
    Ingested,
    capture_record,
    check_media,
    safe_ext,
    store_capture,
)
from tolmach.store.blobs import BlobStore, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gathered:
    """Everything a capture found, in a temporary folder, checked and not yet stored."""

    media: Path
    facts: dict[str, Any]
    files: list[tuple[str, str, Path]]  # (name, role, path), media first
    source: dict[str, Any]
    page: dict[str, Any]


def capture_url(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    url: str,
    on_progress: Progress | None = None,
) -> Ingested:
    """Capture ``url``; a TolmachError (logged as a failed attempt) when nothing was stored."""
    url = url.strip()
    captured = datetime.now(UTC)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="capture-", dir=settings.work_dir) as tmp:
        try:
            got = gather(url, Path(tmp), settings, on_progress)
        except Exception as exc:
            error = str(exc) if isinstance(exc, TolmachError) else f"{type(exc).__name__}: {exc}"
            custody.failed_attempt(
                db, kind="capture-failed", actor=settings.operator, subject=url, error=error
            )
            raise
        return _store(db, blobs, settings, url, got, captured, on_progress)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url} is not a web address.", "Give a full http:// or https:// URL.")


def _check_type(url: str, got: fetch.Fetched) -> None:
    """Refuse a response whose bytes are not what its Content-Type says."""
    said, really = fetch.declared(got.content_type), fetch.sniff(got.head)
    if said == "media" and really == "html":
        raise InputError(
            f"{url} says it is {got.content_type} but sent an HTML page.",
            "The server is lying about the content type; capture the page that shows the "
            "video instead, or download the file by hand and run `tolmach ingest FILE`.",
        )
    if said == "html" and really == "media":
        raise InputError(
            f"{url} says it is an HTML page but sent video or audio bytes.",
            "The server is lying about the content type; download the file by hand, check "
            "it, and run `tolmach ingest FILE`.",
        )


def _archive_media(
    client: httpx.Client,
    warc: archive.WarcFile,
    url: str,
    limits: fetch.Limits,
    headers: dict[str, str],
) -> list[str]:
    """Record the media's own HTTP exchange; a refusal (a platform's signed URL that answers
    only yt-dlp) costs that record, not the capture: the bytes were downloaded and checked."""
    try:
        got = fetch.fetch(client, warc.writer, url, limits, headers)
    except TolmachError as exc:
        log.warning("media of the capture not archived as WARC: %s", exc)
        return [f"media URL not fully archived in the WARC: {exc.message}"]
    _check_type(url, got)  # a server that lies about the media's type is refused
    return []


def gather(
    url: str, folder: Path, settings: Settings, on_progress: Progress | None = None
) -> Gathered:
    """Fetch, download, archive and photograph ``url`` into ``folder``; check everything."""
    _check_url(url)
    notes: list[str] = []
    limits = fetch.Limits(settings.capture_max_bytes, time.monotonic() + settings.capture_timeout_s)
    warc_path = folder / "capture.warc.gz"
    with (
        archive.WarcFile(warc_path, settings.operator) as warc,
        httpx.Client(follow_redirects=True, max_redirects=fetch.MAX_REDIRECTS) as client,
    ):
        first = fetch.fetch(client, warc.writer, url, limits)
        _check_type(url, first)
        got = download.download(url, folder / "media", limits, on_progress)
        seen = {first.url, first.final_url}
        for media_url in got.media_urls:
            if media_url not in seen:
                seen.add(media_url)
                notes += _archive_media(client, warc, media_url, limits, got.headers)
    facts = check_media(got.path, settings)
    meta = page.html_meta(first.head) if fetch.sniff(first.head) == "html" else {}
    info = page.page_info(got.info, meta)
    pages = [archive.Page(first.final_url, first.warc_date, str(info.get("title") or ""))]
    wacz = archive.make_wacz(warc_path, folder / "capture.wacz", pages)
    files: list[tuple[str, str, Path]] = [
        (f"media.{safe_ext(got.path.name) or 'bin'}", "media", got.path),
        ("capture.wacz", "wacz", wacz),
    ]
    shot_error = ""
    if settings.capture_screenshot:
        # A missing or failing browser costs the screenshot, not the capture: the media may be
        # gone by the time the browser is fixed.
        try:
            png = folder / "screenshot.png"
            screenshot.screenshot(first.final_url, png, min(120.0, limits.left() + 30))
            files.append(("screenshot.png", "screenshot", png))
        except TolmachError as exc:
            shot_error = str(exc)
            log.warning("capture of %s has no screenshot: %s", url, exc)
    source = {
        "kind": "url",
        "url": url,
        "final_url": first.final_url,
        "http_status": first.status,
        "content_type": first.content_type,
        "media_urls": list(got.media_urls),
        "extractor": info["extractor"],
        "id": info["id"],
        "webpage_url": info["webpage_url"],
    }
    if shot_error:
        source["screenshot_error"] = shot_error
    if notes:
        source["notes"] = notes
    page_file = folder / "page.json"
    page_file.write_text(json.dumps({"source": source, **info}, ensure_ascii=False, indent=2))
    files.append(("page.json", "page", page_file))
    return Gathered(got.path, facts, files, source, info)


def _store(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    url: str,
    got: Gathered,
    captured: datetime,
    on_progress: Progress | None,
) -> Ingested:
    listed: list[dict[str, Any]] = []
    for name, role, path in got.files:
        sha, size = blobs.put_file(path, on_progress if role == "media" else None)
        listed.append({"name": name, "role": role, "sha256": sha, "size": size})
    record = capture_record(
        settings,
        str(listed[0]["sha256"]),
        int(listed[0]["size"]),
        captured,
        got.source,
        got.facts,
        page=got.page,
        files=listed,
    )
    row = CaptureRow(
        source=url,
        ext=safe_ext(got.media.name),
        kind="url",
        url=url,
        page_json=json.dumps(got.page, ensure_ascii=False),
        files_json=json.dumps(listed),
    )
    return store_capture(db, blobs, settings, record, captured, row)
