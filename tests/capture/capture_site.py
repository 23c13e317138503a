"""A real local web site for URL capture tests: a post page with a video, a direct MP4, and the
ways a source goes wrong (404, a redirect loop, an endless file, lying content types, a page
without media, a server that never answers). Served by http.server in a thread on 127.0.0.1."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import MediaFactory
from tolmach.config import Settings
from tolmach.store.tables import Capture, Event, Item
from tolmach.workspace import Workspace

POST_TEXT = "Нас не отпускают в отпуск с декабря, деньги не платят, воды не хватает."
AUTHOR = "Иван Петров, 96-й полк"
ENDLESS_CAP = 64 * 1024 * 1024  # the endless file stops here, whatever the client does


def _page(title: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="og:description" content="{POST_TEXT}">
<meta property="og:site_name" content="Test Platform">
<meta name="author" content="{AUTHOR}">
<meta property="article:published_time" content="2026-03-01T09:15:00Z">
</head><body><article>
<p class="author">{AUTHOR}</p><p class="text">{POST_TEXT}</p>
{body}
</article></body></html>""".encode()


@dataclass
class Site:
    """The local site: its base URL and the media it serves."""

    base: str
    clip: bytes
    voice: bytes
    stop: threading.Event

    def url(self, path: str) -> str:
        return self.base + path


def _handler(clip: bytes, voice: bytes, stop: threading.Event) -> type[BaseHTTPRequestHandler]:
    post = _page("Обращение бойцов к президенту", '<video controls src="/media/clip.mp4"></video>')
    huge_post = _page("Длинное видео", '<video controls src="/huge.mp4"></video>')
    big_post = _page("Большое видео", '<video controls src="/big.mp4"></video>')
    big = clip.ljust(4 << 20, b"\0")  # 4 MiB, with a Content-Length that says so
    lying_media = _page("Подмена", '<video src="/lie/html-as-video.mp4"></video>')
    served: set[str] = set()  # /once.mp4?k=...: each key is served once, then refused
    tall = _page("Длинная лента", '<div style="height:5000px">лента</div><p>конец</p>')
    no_media = _page("Просто текст", "<p>Здесь нет видео.</p>")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, ctype: str, body: bytes, head_only: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                with contextlib.suppress(OSError):  # the client may hang up (size cap)
                    self.wfile.write(body)

        def _redirect(self, to: str) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()  # no length: the body ends when the connection closes
            sent = 0
            block = clip[:65536].ljust(65536, b"\0")
            try:
                while sent < ENDLESS_CAP and not stop.is_set():
                    self.wfile.write(block)
                    sent += len(block)
            except OSError:
                pass

        def _routes(self) -> dict[str, Callable[[], None]]:
            html = "text/html; charset=utf-8"
            return {
                "/post/1": lambda: self._send(200, html, post),
                "/moved/post": lambda: self._redirect("/post/1"),
                "/media/clip.mp4": lambda: self._send(200, "video/mp4", clip),
                "/direct.mp4": lambda: self._send(200, "video/mp4", clip),
                "/voice.m4a": lambda: self._send(200, "audio/mp4", voice),
                "/gone": lambda: self._send(404, html, b"<html><body>Not found</body></html>"),
                "/loop/a": lambda: self._redirect("/loop/b"),
                "/loop/b": lambda: self._redirect("/loop/a"),
                "/huge.mp4": self._endless,
                "/post/huge": lambda: self._send(200, html, huge_post),
                "/big.mp4": lambda: self._send(200, "video/mp4", big),
                "/post/big": lambda: self._send(200, html, big_post),
                "/lie/html-as-video.mp4": lambda: self._send(200, "video/mp4", no_media),
                "/lie/video-as-html": lambda: self._send(200, html, clip),
                "/nomedia": lambda: self._send(200, html, no_media),
                "/post/lying-media": lambda: self._send(200, html, lying_media),
                "/post/once": self._once_post,
                "/tall": lambda: self._send(200, html, tall),
                "/once.mp4": self._once,
                "/slow": lambda: stop.wait(30),
            }

        def _once(self) -> None:
            key = self.path.partition("?")[2]
            if key in served:
                self._send(403, "text/plain", b"this link has expired")
            else:
                served.add(key)
                self._send(200, "video/mp4", clip)

        def _once_post(self) -> None:
            key = self.path.partition("?")[2]
            page = _page("Одноразовая ссылка", f'<video src="/once.mp4?{key}"></video>')
            self._send(200, "text/html; charset=utf-8", page)

        def do_GET(self) -> None:
            route = self._routes().get(self.path.split("?")[0])
            if route is None:
                self._send(404, "text/plain", b"no such page")
            else:
                route()

    return Handler


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Run the site for the duration of a fixture: ``yield from serve(tmp_path_factory)``."""
    media = MediaFactory(tmp_path_factory.mktemp("site"))
    clip = media.speech_video(size="320x240").read_bytes()
    voice = media.audio().read_bytes()
    stop = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(clip, voice, stop))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield Site(f"http://{host!s}:{port}", clip, voice, stop)
    stop.set()
    server.shutdown()
    server.server_close()


def open_ws(tmp_path: Path, **settings: object) -> Workspace:
    """A workspace in ``tmp_path`` with quick capture settings (no screenshot unless asked)."""
    values: dict[str, object] = {"capture_timeout_s": 60, "capture_screenshot": False}
    values.update(settings)
    return Workspace.open(Settings(data_dir=tmp_path / "data", operator="tester", **values))  # type: ignore[arg-type]


def stored(ws: Workspace) -> tuple[int, int, set[str]]:
    """(items, captures, every file under the blob folder)."""
    with ws.db() as s:
        items = s.scalar(select(func.count()).select_from(Item)) or 0
        caps = s.scalar(select(func.count()).select_from(Capture)) or 0
    files = {str(p.relative_to(ws.blobs.root)) for p in ws.blobs.root.rglob("*") if p.is_file()}
    return items, caps, files


def events(ws: Workspace, kind: str) -> list[Event]:
    with ws.db() as s:
        return list(s.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))
