"""What every route of the desk shares: the desk's state, who is asking, and role checks.

Every route declares who may call it with exactly one of these dependencies, which the
authorisation-matrix test reads back from the app:

    @router.get("/items/{ref}", dependencies=[public])          # anyone, published items only
    def item_page(request: Request, who: Viewer = Depends(require("viewer"))): ...

``require(role)`` also checks the CSRF token of every unsafe request made with a session
cookie (a form field ``csrf`` or the ``X-CSRF-Token`` header htmx sends); API-token requests
carry no cookie and need none.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tolmach.config import Settings
from tolmach.store.desk import ROLES
from tolmach.store.tables import utcnow
from tolmach.web import auth
from tolmach.workspace import Workspace

if TYPE_CHECKING:
    from tolmach.web.pagecache import PageCache

COOKIE = "tolmach_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MAX_SIGNED_IN = 10_000  # sign-ins remembered per server process


@dataclass
class Desk:
    settings: Settings
    ws: Workspace
    templates: Jinja2Templates
    pages: PageCache
    jobs: Any = None  # tolmach.web.jobs.JobQueue once the app has started
    # who a cookie or token (by its sha256) signs in, with the data version it was looked up
    # at and when it stops counting; see ``viewer``
    signed_in: dict[str, tuple[int, datetime, Viewer]] = field(default_factory=dict)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a signed-in user (by cookie or API token) or an anonymous visitor."""

    name: str = ""
    role: str = ""  # "" for anonymous
    via: str = ""  # "cookie", "token" or ""
    csrf: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.role)

    def can(self, role: str) -> bool:
        return self.signed_in and ROLES.index(self.role) >= ROLES.index(role)


class AuthRequired(Exception):
    """No valid sign-in: 401 for the API, a redirect to the sign-in page for pages."""


class Forbidden(Exception):
    """Signed in, but the role may not do this (or the CSRF token is wrong): 403."""

    def __init__(self, why: str = "Your role may not do this.") -> None:
        super().__init__(why)
        self.why = why


def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def db(request: Request) -> Iterator[Session]:
    """A database session for one request, committed when the route returns without error."""
    with get_desk(request).ws.db.begin() as session:
        yield session


# A request's session, committed when the route function returns, before the response is
# sent: a client that follows a redirect, or a commit that fails, never sees a stale "done".
SESSION = Depends(db, scope="function")  # as a default: ``session: Session = SESSION``
DB = Annotated[Session, SESSION]  # as an annotation: ``session: DB``


def credential_of(authorization: str, cookies: dict[str, str]) -> str:
    """The sign-in a request carries: "t" and an API token, "c" and a cookie, or ""."""
    if authorization.lower().startswith("bearer "):
        return "t" + authorization[7:].strip()
    cookie = cookies.get(COOKIE, "")
    return "c" + cookie if cookie else ""


def _credential(request: Request) -> str:
    return credential_of(request.headers.get("authorization", ""), request.cookies)


def remembered(desk: Desk, credential: str) -> Viewer | None:
    """Who ``credential`` signed in when the store was last the same: nothing was committed
    since, so no sign-out, disabled account or changed role can have happened in between."""
    known = desk.signed_in.get(auth.digest(credential))
    if known is None or known[0] != desk.pages.version.current() or known[1] <= utcnow():
        return None
    return known[2]


def _look_up(desk: Desk, credential: str) -> Viewer:
    version = desk.pages.version.current()  # before the query: a change after it shows
    with desk.ws.db.begin() as session:
        if credential.startswith("t"):
            user = auth.token_user(session, credential[1:])
            if user is None:
                return Viewer()
            found = Viewer(user.name, user.role, "token")
            until = utcnow() + auth.TOKEN_USE_PRECISION  # its last use is still written
        else:
            pair = auth.session_user(session, credential[1:])
            if pair is None:
                return Viewer()
            found = Viewer(pair[0].name, pair[0].role, "cookie", pair[1].csrf)
            until = pair[1].expires_at
    if version is not None:
        if len(desk.signed_in) >= MAX_SIGNED_IN:
            desk.signed_in.clear()
        desk.signed_in[auth.digest(credential)] = (version, until, found)
    return found


def _without_query(request: Request) -> Viewer | None:
    """Who is asking, if that is known without a query: found earlier in this request, not
    signed in, or remembered from an earlier request."""
    found: Viewer | None = getattr(request.state, "viewer", None)
    if found is None:
        credential = _credential(request)
        found = remembered(get_desk(request), credential) if credential else Viewer()
        if found is not None:
            request.state.viewer = found
    return found


def who_is(request: Request) -> Viewer:
    """Who is asking (a signed-in page costs no query while the store is unchanged)."""
    found = _without_query(request)
    if found is None:
        found = request.state.viewer = _look_up(get_desk(request), _credential(request))
    return found


async def viewer(request: Request) -> Viewer:
    """The dependency: who is asking, looked up in a worker thread when not remembered."""
    found = _without_query(request)
    if found is None:
        found = await run_in_threadpool(_look_up, get_desk(request), _credential(request))
        request.state.viewer = found
    return found


async def _csrf_ok(request: Request, who: Viewer) -> bool:
    if request.method not in UNSAFE or who.via != "cookie":
        return True
    sent = request.headers.get("x-csrf-token", "")
    if not sent and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf", ""))
    return bool(sent) and hmac.compare_digest(sent.encode(), who.csrf.encode())


def require(role: str) -> Callable[..., Any]:
    """A dependency that lets through ``role`` and the roles above it."""
    if role not in ROLES:
        raise ValueError(role)

    async def check(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
        if not who.signed_in:
            raise AuthRequired()
        if not who.can(role):
            raise Forbidden()
        if not await _csrf_ok(request, who):
            raise Forbidden("The form's security token is missing or wrong. Reload the page.")
        return who

    # read by the authorisation-matrix test:
    check.role = role  # type: ignore[attr-defined]
    return check


async def _anyone(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
    if not await _csrf_ok(request, who):
        raise Forbidden("The form's security token is missing or wrong. Reload the page.")
    return who


_anyone.role = "anonymous"  # type: ignore[attr-defined]
anyone = _anyone  # as a parameter: ``who: Viewer = Depends(anyone)``
public = Depends(_anyone)  # as a route dependency: ``dependencies=[public]``


def page_key(path: str, query: bytes, who: Viewer, htmx: str) -> tuple[str, bytes, str, str, str]:
    """What a kept page is kept by: its address, the asker's role and kind of sign-in (a
    page for a cookie carries a CSRF token) and whether htmx asks (a fragment, maybe)."""
    return (path, query, who.role, who.via, htmx)


async def kept_page(
    request: Request, who: Viewer, build: Callable[[Session, Viewer], Response]
) -> Response:
    """The page ``build`` makes (in a database session of its own, for the viewer it is
    given), kept while the store is unchanged and served from there to everyone of the same
    role who asks for the same address (see :mod:`tolmach.web.pagecache`)."""
    desk = get_desk(request)
    htmx = request.headers.get("hx-request", "")
    key = page_key(request.scope["path"], request.scope["query_string"], who, htmx)

    def in_session(shown: Viewer) -> Response:
        with desk.ws.db.begin() as session:
            return build(session, shown)

    return await desk.pages.serve(key, who, in_session)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    who: Viewer | None = None,
) -> Response:
    """A page from ``templates/``, with who is asking (or ``who``, a kept page's placeholder)
    and their CSRF token in its context."""
    who = who or who_is(request)
    ctx = {"who": who, "csrf": who.csrf, "settings": get_desk(request).settings}
    ctx.update(context or {})
    return get_desk(request).templates.TemplateResponse(request, template, ctx, status_code=status)
