"""Deletion watch against a real local HTTP server whose pages the tests switch."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import MediaFactory
from tolmach import custody
from tolmach.cli import app
from tolmach.config import Settings
from tolmach.errors import ConfigError
from tolmach.sourcecheck import classify
from tolmach.store.tables import Capture, Event, Item, SourceCheck
from tolmach.summary import item_summary, list_items
from tolmach.watch import parse_every, watch_forever, watch_pass
from tolmach.workspace import Workspace

LIVE = b"""<html><head><meta property="og:site_name" content="Telegram">
<meta property="og:video" content="https://cdn.example/v.mp4"></head>
<body><div class="tgme_widget_message_text">We have had no leave since December.</div>
<video src="https://cdn.example/v.mp4"></video></body></html>"""
TG_DELETED = b"""<html><head><meta property="og:site_name" content="Telegram"></head>
<body><div class="tgme_widget_message_error">Post not found</div></body></html>"""
NO_VIDEO = b"""<html><head><meta property="og:title" content="Unit 96"></head>
<body><p>The channel's other posts.</p></body></html>"""
ARTICLE = b"""<html><head><meta property="og:site_name" content="A newsroom"></head>
<body><p>The soldier's channel now shows "Post not found".</p><video></video></body></html>"""


class Pages:
    """Path -> (status, content type, body, extra headers); what the server answers."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}

    def set(self, path: str, status: int, body: bytes = b"", **headers: str) -> None:
        self.routes[path] = (status, "text/html; charset=utf-8", body, headers)


@pytest.fixture
def server() -> Iterator[tuple[str, Pages]]:
    pages = Pages()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, ctype, body, headers = pages.routes.get(self.path, (404, "text/html", b"", {}))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", pages
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    w = Workspace.open(settings.model_copy(update={"watch_timeout_s": 5.0}))
    yield w
    w.close()


def _item(ws: Workspace, media: MediaFactory, name: str, *urls: str, seconds: int = 1) -> str:
    """A stored item with a URL capture row per URL (as URL capture writes them); items of
    different ``seconds`` are different items."""
    item_id = ws.ingest(media.silent_video(name, seconds=seconds)).item_id
    page = {"title": "post", "meta": {"og:video": "https://cdn.example/v.mp4"}}
    with ws.db.begin() as session:
        for url in urls:
            session.add(
                Capture(item_id=item_id, source=url, captured_at=datetime(2026, 1, 2, 3, 4, 5),
                        operator="tester", tool_version="0", record_sha256="0" * 64, kind="url",
                        url=url, page_json=json.dumps(page))
            )  # fmt: skip
    return item_id


def _state(ws: Workspace, item_id: str) -> tuple[str, datetime | None, list[SourceCheck]]:
    with ws.db() as session:
        item = session.get(Item, item_id)
        assert item is not None
        checks = list(
            session.scalars(
                select(SourceCheck).where(SourceCheck.item_id == item_id).order_by(SourceCheck.id)
            )
        )
        return item.source_status, item.source_deleted_at, checks


def _events(ws: Workspace, item_id: str) -> list[Event]:
    with ws.db() as session:
        q = select(Event).where(Event.item_id == item_id, Event.kind.startswith("source-"))
        return list(session.scalars(q.order_by(Event.id)))


def _original_intact(ws: Workspace, item_id: str) -> None:
    with ws.db() as session:
        item = session.get(Item, item_id)
        assert item is not None
        data = ws.blobs.path(item.sha256).read_bytes()
    assert hashlib.sha256(data).hexdigest() == item.sha256


def test_live_then_404_is_deleted_with_evidence(
    ws: Workspace, server: tuple[str, Pages], media: MediaFactory
) -> None:
    base, pages = server
    pages.set("/unit/123", 200, LIVE, ETag='"v1"')
    item_id = _item(ws, media, "a.mp4", f"{base}/unit/123")
    assert _state(ws, item_id)[0] == "unknown"

    [report] = watch_pass(ws.db, ws.blobs, ws.settings)
    status, deleted_at, checks = _state(ws, item_id)
    assert (report.status, report.changed, status, deleted_at) == ("live", True, "live", None)
    assert [c.outcome for c in checks] == ["live"] and checks[0].http_status == 200
    evidence = json.loads(checks[0].evidence_json)
    assert evidence["final_url"] == f"{base}/unit/123" and evidence["platform"] == "telegram"
    assert evidence["headers"]["etag"] == '"v1"'
    assert ws.blobs.read_bytes(checks[0].evidence_sha256) == LIVE
    assert _events(ws, item_id) == []

    pages.set("/unit/123", 404, b"<html>Not Found</html>")
    watch_pass(ws.db, ws.blobs, ws.settings)
    status, deleted_at, checks = _state(ws, item_id)
    assert status == "deleted" and deleted_at == checks[-1].checked_at
    assert [c.outcome for c in checks] == ["live", "deleted"] and checks[-1].http_status == 404
    assert ws.blobs.read_bytes(checks[-1].evidence_sha256) == b"<html>Not Found</html>"
    [event] = _events(ws, item_id)
    assert event.kind == "source-deleted" and event.actor == "tester"
    detail = json.loads(event.detail_json)
    assert detail["checks"][0]["evidence_sha256"] == checks[-1].evidence_sha256
    assert detail["checks"][0]["reason"] == "HTTP 404"
    _original_intact(ws, item_id)

    # Deleted stays deleted, first seen time kept, no second entry; the summaries show it.
    watch_pass(ws.db, ws.blobs, ws.settings)
    assert _state(ws, item_id)[:2] == ("deleted", deleted_at)
    assert len(_events(ws, item_id)) == 1
    summary = item_summary(ws, item_id)
    assert summary["source_status"] == "deleted"
    assert summary["source_deleted_at"] == deleted_at.isoformat() + "Z"  # type: ignore[union-attr]
    [row] = list_items(ws)
    assert row["source_status"] == "deleted" and row["source_deleted_at"]
    with ws.db() as session:
        entries = [custody.entry_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]
    assert custody.check_chain(entries) == []


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (410, b"gone", "HTTP 410"),
        (200, TG_DELETED, "telegram deletion notice"),
        (200, NO_VIDEO, "the page had a video when captured and has none now"),
    ],
)
def test_other_deletions(
    ws: Workspace,
    server: tuple[str, Pages],
    media: MediaFactory,
    status: int,
    body: bytes,
    reason: str,
) -> None:
    base, pages = server
    pages.set("/p", status, body)
    item_id = _item(ws, media, "b.mp4", f"{base}/p")
    [report] = watch_pass(ws.db, ws.blobs, ws.settings)
    assert report.status == "deleted" and report.checks[0]["reason"] == reason
    status_now, deleted_at, [check] = _state(ws, item_id)
    assert status_now == "deleted" and deleted_at is not None
    assert ws.blobs.read_bytes(check.evidence_sha256) == body
    if body == TG_DELETED:
        evidence = json.loads(check.evidence_json)
        assert evidence["matched"] == "Post not found" and evidence["platform"] == "telegram"
    assert [e.kind for e in _events(ws, item_id)] == ["source-deleted"]
    _original_intact(ws, item_id)


def test_transient_failures_never_mark_deleted(
    ws: Workspace, server: tuple[str, Pages], media: MediaFactory
) -> None:
    base, pages = server
    pages.set("/p", 200, LIVE)
    pages.set("/loop", 302, b"", Location="/loop")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/p"
    live = _item(ws, media, "c.mp4", f"{base}/p")
    watch_pass(ws.db, ws.blobs, ws.settings)
    for target in [f"{base}/p", refused, f"{base}/loop", "http://no-such-host.invalid/p"]:
        with ws.db.begin() as session:
            cap = session.scalars(select(Capture).where(Capture.item_id == live)).all()[-1]
            cap.url = target
        if target.endswith("/p") and target.startswith(base):
            pages.set("/p", 503, b"<html>Service Unavailable</html>")
        [report] = watch_pass(ws.db, ws.blobs, ws.settings)
        assert report.checks[0]["outcome"] == "unreachable", target
        assert report.status == "live" and not report.changed
    status, deleted_at, checks = _state(ws, live)
    assert (status, deleted_at) == ("live", None)
    assert [c.outcome for c in checks] == ["live"] + ["unreachable"] * 4
    assert checks[1].http_status == 503 and checks[2].http_status is None
    assert ws.blobs.read_bytes(checks[1].evidence_sha256).startswith(b"<html>Service")
    assert checks[2].evidence_sha256 == ""
    assert "redirect" in json.loads(checks[3].evidence_json)["reason"]
    assert _events(ws, live) == []


def test_restored_and_several_urls(
    ws: Workspace, server: tuple[str, Pages], media: MediaFactory
) -> None:
    base, pages = server
    pages.set("/a", 404)
    pages.set("/b", 200, LIVE)
    both = _item(ws, media, "d.mp4", f"{base}/a", f"{base}/b")
    one = _item(ws, media, "e.mp4", f"{base}/a", seconds=2)
    watch_pass(ws.db, ws.blobs, ws.settings)
    assert _state(ws, both)[0] == "live"  # a copy is still up at /b
    assert _state(ws, one)[0] == "deleted"
    pages.set("/a", 200, LIVE)
    reports = watch_pass(ws.db, ws.blobs, ws.settings, item_ids=[one])
    assert [(r.item_id, r.status, r.changed) for r in reports] == [(one, "live", True)]
    assert [e.kind for e in _events(ws, one)] == ["source-deleted", "source-restored"]
    assert len(_state(ws, both)[2]) == 2  # not checked again


def test_platform_phrases_only_on_platform_pages() -> None:
    assert classify("https://news.example/story", 200, ARTICLE)[0] == "live"
    assert classify("https://t.me/unit/5?embed=1", 200, b"<div>Post not found</div>")[0] == (
        "deleted"
    )
    yt = b'<meta property="og:site_name" content="YouTube">Video unavailable ... '
    yt += b'"playabilityStatus":{"status":"ERROR","reason":"This video has been removed"}'
    assert classify("https://www.youtube.com/watch?v=x", 200, yt)[0] == "deleted"
    assert classify("https://x.com/u/status/1", 200, "Hmm...this page doesn’t exist".encode())[
        0
    ] == ("deleted")
    vk = "<html><div>Запись удалена</div></html>".encode()
    assert classify("https://vk.com/wall-1_2", 200, vk)[0] == "deleted"
    assert classify("https://vk.com/wall-1_2", 403, b"")[0] == "unreachable"
    assert classify("https://vk.com/wall-1_2", 429, b"")[0] == "unreachable"
    # A direct media URL has no page markup to lose.
    assert classify("https://cdn/v.mp4", 200, b"\x00", content_type="video/mp4", had_video=True)[
        0
    ] == ("live")


def test_cli_watch_and_show(
    ws: Workspace, server: tuple[str, Pages], media: MediaFactory, settings: Settings
) -> None:
    base, pages = server
    pages.set("/p", 410, b"gone")
    item_id = _item(ws, media, "f.mp4", f"{base}/p")
    runner = CliRunner()
    data = ["--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*data, "watch", "--json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert report["item_id"] == item_id and report["source_status"] == "deleted"
    text = runner.invoke(app, [*data, "watch", "--item", item_id[:6]])
    assert text.exit_code == 0 and f"{item_id}  deleted  {base}/p  (HTTP 410)" in text.output
    shown = runner.invoke(app, [*data, "show", item_id])
    assert "deleted by source" in shown.output
    listed = runner.invoke(app, [*data, "list"])
    assert "deleted by source" in listed.output
    bad = runner.invoke(app, [*data, "watch", "--every", "soon"])
    assert bad.exit_code == ConfigError.exit_code


def test_every_parses_and_loops() -> None:
    assert [parse_every(t) for t in ("90", "90s", "15m", "2h", "1d")] == [
        90,
        90,
        900,
        7200,
        86400,
    ]
    with pytest.raises(ConfigError):
        parse_every("0m")
    ran: list[int] = []
    slept: list[float] = []
    watch_forever(lambda: ran.append(1), 900, sleep=slept.append, passes=3)
    assert len(ran) == 3 and len(slept) == 2 and all(800 < s <= 900 for s in slept)


def test_items_without_url_captures_are_not_checked(
    ws: Workspace, media: MediaFactory, tmp_path: Path
) -> None:
    item_id = ws.ingest(media.silent_video("g.mp4", seconds=1)).item_id
    assert watch_pass(ws.db, ws.blobs, ws.settings) == []
    assert _state(ws, item_id) == ("unknown", None, [])
