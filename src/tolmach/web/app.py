"""The web desk: a FastAPI app of server-rendered pages (Jinja2 + htmx) and a JSON API.

    app = create_app(Settings(data_dir=...))     # `tolmach serve` runs it with uvicorn

Each area of the desk is a router in ``tolmach.web.routes``; the JSON API lives under
``/api`` in the same routers and is the only part in the OpenAPI schema.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tolmach import __version__
from tolmach.config import Settings
from tolmach.errors import InputError, NotFoundError, TolmachError
from tolmach.web.deps import AuthRequired, Desk, Forbidden, render
from tolmach.web.pagecache import DataVersion, PageCache, ServeKept
from tolmach.workspace import Workspace

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
ROUTERS = ("items", "search", "auth", "intake", "review", "connections", "public")
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
NAMES = {name for name, _ in HEADERS}


class SecurityHeaders:
    """The desk's security headers on every answer: a plain ASGI wrapper, as the
    ``@app.middleware`` kind costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in NAMES]
                message["headers"] = kept + HEADERS
            await send(message)

        if scope["type"] == "http":
            await self.app(scope, receive, with_headers)
        else:
            await self.app(scope, receive, send)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def _error(request: Request, status: int, message: str, hint: str = "") -> Response:
    """The error as JSON for the API, as a small fragment for htmx (desk.js shows it above
    the page), or as a page."""
    if _wants_json(request):
        return JSONResponse({"error": message, "hint": hint}, status_code=status)
    template = "error_fragment.html" if _is_htmx(request) else "error.html"
    return render(request, template, {"message": message, "hint": hint}, status)


def _status_of(exc: TolmachError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 400
    return 500


def _job_runner_lock(settings: Settings) -> IO[bytes] | None:
    """The data folder's job-runner lock, if this process gets it: of several server
    processes (or servers) on one folder, exactly one runs and recovers jobs; the others
    only queue them."""
    handle = (settings.data_dir / "jobs.lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        log.info("another server process runs this folder's jobs; this one only queues them")
        return None
    return handle


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from tolmach.web.jobs import JobQueue

        desk.jobs = JobQueue(desk.ws, settings)
        lock = _job_runner_lock(settings)
        if lock is not None:
            desk.jobs.start()
        try:
            yield
        finally:
            if lock is not None:
                desk.jobs.stop()
                lock.close()
            desk.pages.version.close()
            desk.ws.close()

    app = FastAPI(
        title="tolmach desk",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    ws = Workspace.open(settings)
    desk = Desk(settings, ws, templates, PageCache(DataVersion(ws.db.kw["bind"])))
    app.state.desk = desk
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for name in ROUTERS:
        app.include_router(importlib.import_module(f"tolmach.web.routes.{name}").router)

    app.add_middleware(ServeKept, desk=desk)
    app.add_middleware(SecurityHeaders)  # the outer one: on kept pages too

    @app.exception_handler(AuthRequired)
    async def _auth(request: Request, exc: AuthRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "Sign in first."}, status_code=401)
        to_login = f"/login?next={request.url.path}"
        if _is_htmx(request):  # a whole-page visit, not a sign-in form inside a panel
            return Response(status_code=401, headers={"HX-Redirect": to_login})
        return RedirectResponse(to_login, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, exc.why)

    @app.exception_handler(TolmachError)
    async def _tolmach(request: Request, exc: TolmachError) -> Response:
        return _error(request, _status_of(exc), exc.message, exc.hint)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    return app
