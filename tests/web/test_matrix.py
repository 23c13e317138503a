"""The authorisation matrix: every route of the desk, whoever wrote it, declares who may call
it, and a real request by each of anonymous, viewer, editor and admin is let through or
refused accordingly. Routes are found by walking the app, so new ones are covered by
themselves; a route that declares no role fails the test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tolmach.web.deps import require
from tolmach.web.routes.auth import LOGIN_COOKIE
from web.conftest import PASSWORD

WHO = ("anonymous", "viewer", "editor", "admin")  # each can do what the ones before it can
MISSING_ID = "987654"  # for integer ids: a job, token or segment that does not exist
LOGIN_TOKEN = "matrix-login-token-0123456789abcdef"  # a double-submit pair for POST /login


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    dependant: Dependant


def declared_roles(route: Endpoint) -> set[str]:
    """The roles a route's dependencies declare (the ``.role`` of require() and public)."""
    return {role for d in _walk(route.dependant) if (role := getattr(d.call, "role", None))}


def api_routes(app: FastAPI) -> list[Endpoint]:
    """Every route of the desk's own, as the app serves it (with the routers' prefixes and
    dependencies); static files and FastAPI's docs are not APIRoutes."""
    return [
        Endpoint(ctx.path, frozenset(ctx.methods), ctx.dependant)
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
    ]


def fill_path(route: Endpoint, item_id: str) -> str:
    """The route's path with the processed item's id in its text parameters and an id that
    does not exist in its integer ones, so that no real token, job or account is touched."""
    kinds = {p.name: p.field_info.annotation for d in _walk(route.dependant) for p in d.path_params}

    def value(m: re.Match[str]) -> str:
        return MISSING_ID if kinds.get(m.group(1)) is int else item_id

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)


@dataclass
class Caller:
    who: str
    client: TestClient
    csrf: str = ""


def _sign_in(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client.get("/account").text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]


def _still_signed_in(caller: Caller) -> None:
    """Sign in again if the last request ended the sign-in (POST /logout does)."""
    if caller.who != "anonymous" and caller.client.get("/api/me").status_code != 200:
        caller.client.cookies.clear()
        caller.csrf = _sign_in(caller.client, caller.who)


def call(caller: Caller, method: str, path: str) -> tuple[int, str]:
    """One request as ``caller`` with the right CSRF token, so that only the role decides;
    return its status and where it redirects (or the start of its body)."""
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if method != "GET":
        caller.client.cookies.set(LOGIN_COOKIE, LOGIN_TOKEN)
        kwargs["headers"] = {"X-CSRF-Token": caller.csrf} if caller.csrf else {}
        if path.startswith("/api/"):
            kwargs["json"] = {}
        else:
            kwargs["data"] = {"csrf": LOGIN_TOKEN if path == "/login" else caller.csrf}
    with caller.client.stream(method, path, **kwargs) as r:  # a stream is not waited out
        if r.is_redirect:
            return r.status_code, r.headers.get("location", "")
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            return r.status_code, "(event stream)"
        return r.status_code, r.read()[:160].decode(errors="replace")


def refused(status: int, where: str) -> bool:
    return status in (401, 403) or (300 <= status < 400 and where.startswith("/login"))


def verdict(declared: str, who: str, status: int, where: str) -> str:
    """ "" when the response is right for ``who`` on a route for ``declared``, else why not."""
    if declared == "anonymous" or WHO.index(who) >= WHO.index(declared):
        if refused(status, where):
            return "refused an allowed role"
        return "server error" if status >= 500 else ""
    if who == "anonymous":
        ok = status == 401 or (status in (302, 303, 307) and where.startswith("/login"))
        return "" if ok else "anonymous let through (want 401 or a redirect to /login)"
    return "" if status == 403 else "too low a role let through (want 403)"


def table(rows: list[list[str]]) -> str:
    head = ["route", "declared", *WHO]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]
    )


def test_every_route_declares_exactly_one_role(app_client: TestClient) -> None:
    app: FastAPI = app_client.app  # type: ignore[assignment]
    routes = api_routes(app)
    bad = [
        f"{sorted(r.methods)} {r.path}: {sorted(declared_roles(r)) or 'none'}"
        for r in routes
        if len(declared_roles(r)) != 1
    ]
    assert not bad, "routes must declare exactly one of require(role) or public:\n" + "\n".join(bad)
    paths = {r.path for r in routes}
    assert {"/login", "/logout", "/account", "/api/me", "/admin/users", "/api/users"} <= paths


def test_only_the_json_api_is_in_the_schema(app_client: TestClient) -> None:
    schema = app_client.get("/api/openapi.json").json()
    assert "/api/me" in schema["paths"]
    assert [p for p in schema["paths"] if not p.startswith("/api/")] == []


def test_a_route_without_a_role_is_noticed() -> None:
    app = FastAPI()

    @app.get("/open")
    def open_route() -> None: ...

    @app.get("/closed", dependencies=[Depends(require("editor"))])
    def closed_route() -> None: ...

    roles = {r.path: declared_roles(r) for r in api_routes(app)}
    assert roles == {"/open": set(), "/closed": {"editor"}}
    assert verdict("editor", "viewer", 200, "") and verdict("viewer", "anonymous", 200, "")
    assert verdict("viewer", "editor", 303, "/login?next=/x")
    assert not verdict("viewer", "anonymous", 303, "/login?next=/x")


@pytest.mark.model
def test_authorisation_matrix(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    app: FastAPI = client.app  # type: ignore[assignment]
    jobs = app.state.desk.jobs
    if jobs is not None:
        jobs.stop()  # jobs the matrix submits are recorded, not run: only the role matters here
    callers = {who: Caller(who, TestClient(app, raise_server_exceptions=False)) for who in WHO}
    for who in WHO[1:]:
        callers[who].csrf = _sign_in(callers[who].client, who)
    rows: list[list[str]] = []
    failures = 0
    for route in sorted(api_routes(app), key=lambda r: (r.path, sorted(r.methods))):
        roles = declared_roles(route)
        if len(roles) != 1:
            rows.append([route.path, f"{sorted(roles) or 'NONE'} !!", "", "", "", ""])
            failures += 1
            continue
        declared = roles.pop()
        path = fill_path(route, item_id)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            cells = []
            for who in WHO:
                status, where = call(callers[who], method, path)
                why = verdict(declared, who, status, where)
                failures += bool(why)
                cells.append(f"{status}" + (f" !! {why}: {where[:80]!r}" if why else ""))
                if method != "GET":
                    _still_signed_in(callers[who])
            rows.append([f"{method} {path}", declared, *cells])
    print(table(rows))  # shown by pytest -s, and with the failure
    assert failures == 0, f"{failures} wrong answers:\n{table(rows)}"
    assert len(rows) >= 10, table(rows)
