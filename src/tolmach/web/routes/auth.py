"""Routes of the desk: signing in and out, your account and its API tokens, and (for admins)
the desk's accounts; ``/api/me`` and ``/api/users`` for scripts.

The sign-in form is protected against cross-site forgery before anyone is signed in by a
double-submit cookie: ``GET /login`` sets ``tolmach_login`` to a random token that the
form's hidden ``csrf`` field must repeat.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach.errors import InputError
from tolmach.web import auth
from tolmach.web.deps import COOKIE, DB, Viewer, anyone, get_desk, render, require

router = APIRouter()
LOGIN_COOKIE = "tolmach_login"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
HTML: dict[str, Any] = {"include_in_schema": False}
Anyone = Annotated[Viewer, Depends(anyone)]
SignedIn = Annotated[Viewer, Depends(require("viewer"))]
Admin = Annotated[Viewer, Depends(require("admin"))]
Text = Annotated[str, Form()]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _cookie_flags(request: Request) -> dict[str, Any]:
    return {"httponly": True, "secure": get_desk(request).settings.web_secure_cookies}


def _login_page(
    request: Request, next_path: str, name: str = "", problem: str = "", hint: str = "",
    status: int = 200,
) -> Response:  # fmt: skip
    sent = request.cookies.get(LOGIN_COOKIE, "")
    token = sent if _TOKEN.match(sent) else secrets.token_urlsafe(32)  # one per browser
    ctx = {"login_csrf": token, "next": next_path, "name": name, "problem": problem}
    response = render(request, "auth/login.html", {**ctx, "hint": hint}, status)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path="/login", samesite="strict",
        **_cookie_flags(request),
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/", **HTML)
def home(who: Anyone) -> Response:
    return _see_other("/items" if who.signed_in else "/published")


@router.get("/login", **HTML)
def login_page(
    request: Request, who: Anyone, next_path: Annotated[str, Query(alias="next")] = ""
) -> Response:
    if who.signed_in:
        return _see_other(auth.safe_next(next_path))
    return _login_page(request, auth.safe_next(next_path, ""))


@router.post("/login", **HTML)
def login(
    request: Request,
    session: DB,
    who: Anyone,
    name: Text = "",
    password: Text = "",
    csrf: Text = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    target = auth.safe_next(next_path, "")
    sent = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not hmac.compare_digest(csrf.encode(), sent.encode()):
        return _login_page(
            request, target, name, "The sign-in form has expired or did not come from this desk.",
            "Reload the page and sign in again.", 403,
        )  # fmt: skip
    if not name.strip() or not password:
        return _login_page(request, target, name, "Enter your account name and password.", "", 400)
    address = request.client.host if request.client else ""
    settings = get_desk(request).settings
    try:
        token, _ = auth.sign_in(session, settings, name, password, address)
    except auth.TooManyAttempts as exc:
        return _login_page(request, target, name, exc.message, exc.hint, 429)
    except InputError as exc:
        return _login_page(request, target, name, exc.message, exc.hint, 401)
    if old := request.cookies.get(COOKIE):
        auth.sign_out(session, old)
    response = _see_other(target or "/items")
    response.set_cookie(
        COOKIE, token, max_age=int(settings.web_session_hours * 3600), path="/",
        samesite="lax", **_cookie_flags(request),
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/login", samesite="strict", **_cookie_flags(request))
    return response


@router.post("/logout", **HTML)
def logout(request: Request, session: DB, who: SignedIn) -> Response:
    if token := request.cookies.get(COOKIE):
        auth.sign_out(session, token)
    response = _see_other("/")
    response.delete_cookie(COOKIE, path="/", samesite="lax", **_cookie_flags(request))
    return response


def _account_page(
    request: Request, session: Session, who: Viewer, status: int = 200, **extra: str
) -> Response:
    """The account page; ``extra``: new_token, label, problem, password_problem, password_done."""
    tokens = auth.user_tokens(session, auth.get_user(session, who.name))
    response = render(request, "auth/account.html", {"tokens": tokens, **extra}, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account", **HTML)
def account(request: Request, session: DB, who: SignedIn) -> Response:
    return _account_page(request, session, who)


@router.post("/account/tokens", **HTML)
def create_token(request: Request, session: DB, who: SignedIn, label: Text = "") -> Response:
    try:
        token = auth.new_token(session, auth.get_user(session, who.name), label)
    except InputError as exc:
        return _account_page(request, session, who, 400, label=label, problem=exc.message)
    return _account_page(request, session, who, new_token=token)


@router.post("/account/password", **HTML)
def change_password(
    request: Request, session: DB, who: SignedIn, current: Text = "", new: Text = "",
    again: Text = "",
) -> Response:  # fmt: skip
    if not current or not new:
        problem = "Enter your current password and a new one."
        return _account_page(request, session, who, 400, password_problem=problem)
    address = request.client.host if request.client else ""
    try:
        auth.check_password(session, get_desk(request).settings, who.name, current, address)
    except auth.TooManyAttempts as exc:
        return _account_page(request, session, who, 429, password_problem=str(exc))
    except InputError:
        problem = "Your current password is wrong."
        return _account_page(request, session, who, 400, password_problem=problem)
    try:
        if new != again:
            raise InputError("The two new passwords differ.", "Type the same one twice.")
        keep = request.cookies.get(COOKIE, "") if who.via == "cookie" else ""
        auth.set_password(session, who.name, new, by=who.name, keep=keep)
    except InputError as exc:
        return _account_page(request, session, who, 400, password_problem=str(exc))
    return _account_page(request, session, who, password_done="yes")


@router.post("/account/tokens/{token_id}/revoke", **HTML)
def revoke_token(session: DB, who: SignedIn, token_id: int) -> Response:
    auth.revoke_token(session, auth.get_user(session, who.name), token_id)
    return _see_other("/account")


@router.get("/api/me")
async def me(who: SignedIn) -> dict[str, str]:
    """Who this token or sign-in belongs to, and its role."""
    return {"name": who.name, "role": who.role, "via": who.via}


def _user_dict(user: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat() + "Z",
    }


def _users_page(
    request: Request, session: Session, form: dict[str, str] | None = None, problem: str = "",
    hint: str = "", status: int = 200,
) -> Response:  # fmt: skip
    ctx = {"users": auth.list_users(session), "form": form or {}, "problem": problem}
    return render(request, "auth/users.html", {**ctx, "hint": hint}, status)


@router.get("/admin/users", **HTML)
def users_page(request: Request, session: DB, who: Admin) -> Response:
    return _users_page(request, session)


@router.post("/admin/users", **HTML)
def add_user_form(
    request: Request, session: DB, who: Admin, name: Text = "", role: Text = "viewer",
    password: Text = "",
) -> Response:  # fmt: skip
    try:
        auth.add_user(session, name, role, password, by=who.name)
    except InputError as exc:
        form = {"name": name, "role": role}
        return _users_page(request, session, form, exc.message, exc.hint, 400)
    return _see_other("/admin/users")


@router.post("/admin/users/{name}/disable", **HTML)
def disable_user_form(session: DB, who: Admin, name: str) -> Response:
    auth.disable_user(session, name, by=who.name)
    return _see_other("/admin/users")


@router.post("/admin/users/{name}/enable", **HTML)
def enable_user_form(session: DB, who: Admin, name: str) -> Response:
    auth.enable_user(session, name, by=who.name)
    return _see_other("/admin/users")


class NewUser(BaseModel):
    name: str
    role: str = "viewer"
    password: str


@router.get("/api/users")
def list_users(session: DB, who: Admin) -> list[dict[str, Any]]:
    """Every account of the desk (admins only)."""
    return [_user_dict(u) for u in auth.list_users(session)]


@router.post("/api/users", status_code=201)
def add_user(session: DB, who: Admin, new: NewUser) -> dict[str, Any]:
    """Create an account with a role (admins only)."""
    return _user_dict(auth.add_user(session, new.name, new.role, new.password, by=who.name))


@router.post("/api/users/{name}/disable")
def disable_user(session: DB, who: Admin, name: str) -> dict[str, Any]:
    """Disable an account: its sign-ins end and its API tokens stop working (admins only)."""
    return _user_dict(auth.disable_user(session, name, by=who.name))


@router.post("/api/users/{name}/enable")
def enable_user(session: DB, who: Admin, name: str) -> dict[str, Any]:
    """Let a disabled account sign in again (admins only)."""
    return _user_dict(auth.enable_user(session, name, by=who.name))
