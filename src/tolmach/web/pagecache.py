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
person's page never carries another's token.
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
from starlette.responses import Response

from tolmach.web.deps import Viewer

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
    headers: tuple[tuple[str, str], ...]
    parts: tuple[bytes, ...]
    size: int


class PageCache:
    """Pages by key (route, query, role...) for the current data version."""

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

    async def serve(self, key: Hashable, who: Viewer, build: Build) -> Response:
        """The page for ``who``: kept if the store is unchanged since it was built, else
        built (once, however many ask for it at the same time) in a worker thread."""
        version = self.version.current()
        if version is None:
            return await run_in_threadpool(build, who)
        kept = self._pages.get(key)
        if kept is None or kept.version != version:
            self.misses += 1
            kept = await self._built(key, version, build, who)
        else:
            self.hits += 1
        return self._response(kept, who)

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
        headers = tuple(
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in response.raw_headers
            if k.lower() != b"content-length"
        )
        parts = tuple(self._cut.split(body))
        return Kept(version, response.status_code, headers, parts, len(body))

    def _response(self, kept: Kept, who: Viewer) -> Response:
        name, csrf = str(escape(who.name)).encode(), str(escape(who.csrf)).encode()
        marks = {self.name_mark.encode(): name, self.csrf_mark.encode(): csrf}
        body = b"".join(marks.get(part, part) for part in kept.parts)
        response = Response(body, kept.status)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]
        response.raw_headers.append((b"content-length", str(len(body)).encode()))
        return response

    def _keep(self, key: Hashable, kept: Kept) -> None:
        if kept.version != self.version.current() or kept.size > MAX_BYTES // 8:
            return  # the store changed while it was built: old already
        if kept.version != self._version:
            self._drop_all()  # every page kept before is old
            self._version = kept.version
        while self._pages and self._bytes + kept.size > MAX_BYTES:
            oldest = next(iter(self._pages))
            self._bytes -= self._pages.pop(oldest).size
        previous = self._pages.pop(key, None)
        self._bytes += kept.size - (previous.size if previous else 0)
        self._pages[key] = kept

    def _drop_all(self) -> None:
        self._pages.clear()
        self._bytes = 0
