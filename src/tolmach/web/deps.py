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
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach.config import Settings
from tolmach.store.desk import ROLES
from tolmach.web import auth
from tolmach.workspace import Workspace

COOKIE = "tolmach_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Desk:
    settings: Settings
    ws: Workspace
    templates: Jinja2Templates
    jobs: Any = None  # tolmach.web.jobs.JobQueue once the app has started


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


def viewer(request: Request) -> Viewer:
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    found = Viewer()
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(COOKIE, "")
    with get_desk(request).ws.db.begin() as session:
        if header.lower().startswith("bearer "):
            user = auth.token_user(session, header[7:].strip())
            if user is not None:
                found = Viewer(user.name, user.role, "token")
        elif cookie:
            pair = auth.session_user(session, cookie)
            if pair is not None:
                found = Viewer(pair[0].name, pair[0].role, "cookie", pair[1].csrf)
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


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """A page from ``templates/``, with who is asking and their CSRF token in its context."""
    who = viewer(request)
    ctx = {"who": who, "csrf": who.csrf, "settings": get_desk(request).settings}
    ctx.update(context or {})
    return get_desk(request).templates.TemplateResponse(request, template, ctx, status_code=status)
