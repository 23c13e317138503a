"""Rendered pages kept while the store is unchanged: the item list, search and item pages
then cost a dictionary lookup instead of queries and a template.

    pages = PageCache(DataVersion(engine))
    response = await pages.serve(key, who, build)   # build(shown) renders for a placeholder

Freshness comes from the store, not from a clock. :class:`DataVersion` is SQLite's
``PRAGMA data_version`` read on a connection of its own that never writes: it changes
whenever any other connection (of this process, another server process or a pipeline run)
commits a change. A page is kept with the version read *before* its queries, so a change
committed while it was being built makes it old at once; a page is served only while the
version is the one it was kept with. On another database (no such counter) nothing is kept.

Pages are kept per role (what a role may do changes the page) and rendered for a placeholder
viewer; the asker's own name and CSRF token are put in when a page is served, so one
person's page never carries another's token. :class:`ServeKept` answers kept pages before
FastAPI's routing, for sign-ins remembered the same way (``deps.remembered``); the rest goes
through the routes, whose ``deps.kept_page`` builds and keeps.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from markupsafe import escape
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tolmach.web.deps import Desk, Viewer, credential_of, page_key, remembered

MAX_BYTES = 64 * 1024 * 1024  # of kept pages per server process
Build = Callable[[Viewer], Response]


class DataVersion:
    """A number that changes whenever anything commits a change to the store (``None`` when
    the database cannot say: then nothing is kept)."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        path = engine.url.database
        if engine.dialect.name == "sqlite" and path and path != ":memory:":
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def current(self) -> int | None:
        if self._conn is None:
            return None
        with self._lock:  # one connection, used from the event loop and worker threads
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True)
class Kept:
    """A page as rendered for the placeholder viewer, cut where the asker's bits go."""

    version: int
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # without its length
    parts: tuple[bytes, ...]
    size: int


class PageCache:
    """Pages by key (address, role...) for the current data version."""

    def __init__(self, version: DataVersion) -> None:
        self.version = version
        mark = secrets.token_hex(12)  # unguessable: no stored text can contain it
        self.name_mark, self.csrf_mark = f"who{mark}", f"csrf{mark}"
        self._cut = re.compile(f"({self.name_mark}|{self.csrf_mark})".encode())
        self._pages: dict[Hashable, Kept] = {}
        self._building: dict[Hashable, tuple[int, asyncio.Future[Kept]]] = {}
        self._bytes = 0
        self._version = -1
        self.hits = self.misses = 0

    def find(self, key: Hashable) -> Kept | None:
        """The page kept by ``key``, if the store is unchanged since it was built."""
        kept = self._pages.get(key)
        if kept is None or kept.version != self.version.current():
            return None
        self.hits += 1
        return kept

    def body(self, kept: Kept, who: Viewer) -> bytes:
        """A kept page with ``who``'s own name and CSRF token put in."""
        marks = {
            self.name_mark.encode(): str(escape(who.name)).encode(),
            self.csrf_mark.encode(): str(escape(who.csrf)).encode(),
        }
        return b"".join(marks.get(part, part) for part in kept.parts)

    async def serve(self, key: Hashable, who: Viewer, build: Build) -> Response:
        """The page for ``who``: kept if the store is unchanged since it was built, else
        built (once, however many ask for it at the same time) in a worker thread."""
        version = self.version.current()
        if version is None:
            return await run_in_threadpool(build, who)
        kept = self.find(key)
        if kept is None:
            self.misses += 1
            kept = await self._built(key, version, build, who)
        response = Response(self.body(kept, who), kept.status)
        response.raw_headers[:0] = kept.headers  # before its length
        return response

    async def _built(self, key: Hashable, version: int, build: Build, who: Viewer) -> Kept:
        building = self._building.get(key)
        if building is not None and building[0] == version:
            await asyncio.wait([building[1]])
            if not building[1].cancelled():
                return building[1].result()  # its error, if it failed: the same for all
        future: asyncio.Future[Kept] = asyncio.get_running_loop().create_future()
        self._building[key] = (version, future)
        try:
            kept = await run_in_threadpool(self._build, version, build, who)
            future.set_result(kept)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked as seen: nobody else may have been waiting
            raise
        finally:
            future.cancel()  # a no-op once done; else (this request cancelled) others build
            if self._building.get(key, (0, None))[1] is future:
                del self._building[key]
        if kept.status == 200:
            self._keep(key, kept)
        return kept

    def _build(self, version: int, build: Build, who: Viewer) -> Kept:
        shown = Viewer(self.name_mark, who.role, who.via, self.csrf_mark if who.csrf else "")
        response = build(shown)
        body = bytes(response.body)
        headers = tuple((k, v) for k, v in response.raw_headers if k != b"content-length")
        return Kept(version, response.status_code, headers, tuple(self._cut.split(body)), len(body))

    def _keep(self, key: Hashable, kept: Kept) -> None:
        if kept.version != self.version.current() or kept.size > MAX_BYTES // 8:
            return  # the store changed while it was built: old already
        if kept.version != self._version:
            self._pages.clear()  # every page kept before is old
            self._bytes = 0
            self._version = kept.version
        while self._pages and self._bytes + kept.size > MAX_BYTES:
            oldest = next(iter(self._pages))
            self._bytes -= self._pages.pop(oldest).size
        previous = self._pages.pop(key, None)
        self._bytes += kept.size - (previous.size if previous else 0)
        self._pages[key] = kept


class ServeKept:
    """Kept pages answered before routing: for a GET from someone whose sign-in is
    remembered (:func:`deps.remembered`), the page kept by its key (:func:`deps.page_key`)
    is the one the route would make. It was made for the same role after the same role
    checks, at the same data version; anything else goes on to the routes."""

    def __init__(self, app: ASGIApp, desk: Desk) -> None:
        self.app = app
        self.desk = desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._find(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        kept, body = found
        headers = [*kept.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": kept.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _find(self, scope: Scope) -> tuple[Kept, bytes] | None:
        sent: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name in (b"cookie", b"authorization", b"hx-request") and name not in sent:
                sent[name] = value.decode("latin-1")
        cookie = sent.get(b"cookie")
        sign_in = credential_of(sent.get(b"authorization", ""), cookie_parser(cookie or ""))
        who = remembered(self.desk, sign_in) if sign_in else None
        if who is None:
            return None
        key = page_key(scope["path"], scope["query_string"], who, sent.get(b"hx-request", ""))
        kept = self.desk.pages.find(key)
        return None if kept is None else (kept, self.desk.pages.body(kept, who))
