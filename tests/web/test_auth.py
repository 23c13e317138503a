"""Signing in and out, cookies, CSRF, the sign-in rate limit, API tokens and account admin,
through real HTTP on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from tolmach.config import Settings
from tolmach.store.desk import ApiToken, LoginAttempt, User, WebSession
from tolmach.store.tables import Event
from tolmach.web import auth
from tolmach.web.app import create_app
from tolmach.web.deps import COOKIE
from tolmach.web.routes.auth import LOGIN_COOKIE
from web.conftest import PASSWORD, ROLES


def _field(html: str, before: str) -> str:
    return html.split(before, 1)[1].split('"', 1)[0]


def login_form(client: TestClient, url: str = "/login") -> str:
    """The sign-in page's CSRF token (its cookie is now in ``client``)."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return _field(page.text, 'name="csrf" value="')


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the session's CSRF token (from the account page)."""
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": login_form(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return _field(client.get("/account").text, '"X-CSRF-Token": "')


def new_client(client: TestClient) -> TestClient:
    """Another browser on the same desk (no cookies)."""
    return TestClient(client.app, base_url="http://testserver")


def db_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.desk.ws.db  # type: ignore[attr-defined]


def test_password_is_stored_only_as_an_argon2_hash(app_client: TestClient) -> None:
    log_in(app_client, "editor")
    with db_of(app_client)() as session:
        users = session.scalars(select(User)).all()
        web = session.scalars(select(WebSession)).one()
    assert {u.name for u in users} == set(ROLES)
    assert all(u.password_hash.startswith("$argon2id$") for u in users)
    cookie = app_client.cookies[COOKIE]
    assert web.token_sha256 == auth.digest(cookie) and cookie not in web.token_sha256
    settings: Settings = app_client.app.state.desk.settings  # type: ignore[attr-defined]
    if settings.db_url.startswith("sqlite"):  # the database's files, journal included
        raw = b"".join(
            p.read_bytes() for p in settings.db_path.parent.glob(settings.db_path.name + "*")
        )
    else:  # every row of every table, as text
        with db_of(app_client)() as session:
            tables = inspect(session.connection()).get_table_names()
            rows = [session.scalars(text(f'SELECT t::text FROM "{n}" t')).all() for n in tables]
        raw = repr(rows).encode()
    assert PASSWORD.encode() not in raw and cookie.encode() not in raw


def _set_cookies(response: object) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def test_session_cookie_flags(app_client: TestClient) -> None:
    token = login_form(app_client)
    r = app_client.post(
        "/login",
        data={"name": "viewer", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    cookie = _set_cookies(r)[COOKIE].lower()
    for flag in ("httponly", "samesite=lax", "path=/;", "max-age=43200"):
        assert flag in cookie + ";", (flag, cookie)
    assert "secure" not in cookie  # plain http in this test's settings
    assert "max-age=0" in _set_cookies(r)[LOGIN_COOKIE].lower()  # the sign-in token is spent


def test_cookies_are_secure_when_set(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "d", operator="t", web_secure_cookies=True))
    with app.state.desk.ws.db.begin() as session:
        auth.add_user(session, "olena", "editor", PASSWORD)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        assert "secure" in _set_cookies(page)[LOGIN_COOKIE].lower()
        token = _field(page.text, 'name="csrf" value="')
        r = client.post(
            "/login",
            data={"name": "olena", "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "secure" in _set_cookies(r)[COOKIE].lower()


@pytest.mark.parametrize(
    ("cookie", "field"),
    [("good", ""), ("good", "forged-token-forged-token-forged-token"), ("", "good"),
     ("good", "подделка")],
)  # fmt: skip
def test_sign_in_without_its_csrf_token_is_refused(
    app_client: TestClient, cookie: str, field: str
) -> None:
    good = login_form(app_client)
    if not cookie:
        app_client.cookies.delete(LOGIN_COOKIE, path="/login")
    r = app_client.post(
        "/login",
        data={"name": "editor", "password": PASSWORD, "csrf": good if field == "good" else field},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "Reload the page" in r.text
    assert COOKIE not in _set_cookies(r)
    with db_of(app_client)() as session:  # nothing counted, nothing signed in
        assert session.scalars(select(LoginAttempt)).all() == []
        assert session.scalars(select(WebSession)).all() == []


@pytest.mark.parametrize("sent", ["", "wrong", "невірний"])
def test_form_post_with_a_forged_csrf_token_is_refused(app_client: TestClient, sent: str) -> None:
    csrf = log_in(app_client, "viewer")
    forged = app_client.post("/account/tokens", data={"label": "forged", "csrf": sent})
    assert forged.status_code == 403 and "security token" in forged.text
    headed = app_client.post(
        "/account/tokens", data={"label": "x"}, headers={"X-CSRF-Token": sent.encode()}
    )
    assert headed.status_code == 403
    with db_of(app_client)() as session:
        assert session.scalars(select(ApiToken)).all() == []
    ok = app_client.post("/account/tokens", data={"label": "by form", "csrf": csrf})
    assert ok.status_code == 200 and "by form" in ok.text
    htmx = app_client.post(
        "/account/tokens", data={"label": "by htmx"}, headers={"X-CSRF-Token": csrf}
    )
    assert htmx.status_code == 200 and "by htmx" in htmx.text


def test_failed_sign_ins_are_rate_limited(app_client: TestClient) -> None:
    limit = app_client.app.state.desk.settings.web_login_attempts  # type: ignore[attr-defined]
    token = login_form(app_client)
    for _ in range(limit):
        r = app_client.post(
            "/login", data={"name": "editor", "password": "wrong password!", "csrf": token}
        )
        assert r.status_code == 401 and "Wrong name or password." in r.text
    for name in ("editor", "admin"):  # by name and by address: the right password too
        r = app_client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text, r.text
        assert "Wait 15 minutes, then try again." in r.text
        assert COOKIE not in app_client.cookies


def test_empty_sign_in_form_is_a_clear_400(app_client: TestClient) -> None:
    r = app_client.post("/login", data={"name": " ", "csrf": login_form(app_client)})
    assert r.status_code == 400 and "Enter your account name and password." in r.text
    with db_of(app_client)() as session:
        assert session.scalars(select(LoginAttempt)).all() == []


def test_session_cookie_replayed_after_sign_out_signs_no_one_in(app_client: TestClient) -> None:
    csrf = log_in(app_client, "editor")
    stolen = app_client.cookies[COOKIE]
    other = new_client(app_client)
    log_in(other, "viewer")
    out = app_client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and "max-age=0" in _set_cookies(out)[COOKIE].lower()
    replay = new_client(app_client)
    replay.cookies.set(COOKIE, stolen)
    page = replay.get("/account", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert replay.get("/api/me").status_code == 401
    assert replay.post(
        "/account/tokens", data={"label": "x", "csrf": csrf}, follow_redirects=False
    ).status_code in (
        303,
        401,
    )
    # the other user's sign-in is untouched, until they sign out too
    assert other.get("/api/me").json() == {"name": "viewer", "role": "viewer", "via": "cookie"}
    theirs = other.cookies[COOKIE]
    other.post(
        "/logout", headers={"X-CSRF-Token": _field(other.get("/account").text, '"X-CSRF-Token": "')}
    )
    replay.cookies.set(COOKIE, theirs)
    assert replay.get("/api/me").status_code == 401


def test_signing_in_again_ends_the_earlier_sign_in(app_client: TestClient) -> None:
    log_in(app_client, "viewer")
    first = app_client.cookies[COOKIE]
    app_client.cookies.delete(COOKIE)
    app_client.cookies.set(COOKIE, "not-a-session")  # a stale cookie is harmless
    log_in(app_client, "editor")
    assert app_client.get("/api/me").json()["name"] == "editor"
    replay = new_client(app_client)
    replay.cookies.set(COOKIE, first)
    assert replay.get("/api/me").json()["name"] == "viewer"  # a different browser's, kept


def test_api_token_works_until_revoked(app_client: TestClient) -> None:
    csrf = log_in(app_client, "editor")
    page = app_client.post("/account/tokens", data={"label": "archive sync", "csrf": csrf})
    token = _field(page.text, 'class="auth-token" value="')
    assert token.startswith("tmk_") and page.headers["cache-control"] == "no-store"
    assert token not in app_client.get("/account").text  # shown once
    script = new_client(app_client)
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/me", headers=bearer).json() == {
        "name": "editor", "role": "editor", "via": "token",
    }  # fmt: skip
    assert script.get("/api/me", headers={"Authorization": "Bearer tmk_guess"}).status_code == 401
    with db_of(app_client)() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_sha256 == auth.digest(token) and row.last_used_at is not None
    # another user cannot revoke it
    other = new_client(app_client)
    other_csrf = log_in(other, "admin")
    r = other.post(f"/account/tokens/{row.id}/revoke", data={"csrf": other_csrf})
    assert r.status_code == 404 and script.get("/api/me", headers=bearer).status_code == 200
    r = app_client.post(
        f"/account/tokens/{row.id}/revoke", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "revoked" in app_client.get("/account").text
    assert script.get("/api/me", headers=bearer).status_code == 401
    assert script.get("/account", headers=bearer, follow_redirects=False).status_code == 303


def test_empty_token_label_is_a_clear_400(app_client: TestClient) -> None:
    csrf = log_in(app_client, "viewer")
    r = app_client.post("/account/tokens", data={"label": "  ", "csrf": csrf})
    assert r.status_code == 400 and "needs a label" in r.text


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/items", "/\\evil.example", "https://evil.example",
     "javascript:alert(1)", "/\r\nLocation: https://evil.example"],
)  # fmt: skip
def test_next_to_another_site_is_not_followed(app_client: TestClient, target: str) -> None:
    page = app_client.get("/login", params={"next": target})
    assert "evil.example" not in page.text
    r = app_client.post(
        "/login",
        data={"name": "viewer", "password": PASSWORD, "next": target,
              "csrf": _field(page.text, 'name="csrf" value="')},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/items"


def test_next_on_this_desk_is_followed(app_client: TestClient) -> None:
    first = app_client.get("/account", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/account"
    page = app_client.get(first.headers["location"])
    assert 'name="next" value="/account"' in page.text
    r = app_client.post(
        "/login",
        data={"name": "viewer", "password": PASSWORD, "next": "/account",
              "csrf": _field(page.text, 'name="csrf" value="')},
        follow_redirects=False,
    )  # fmt: skip
    assert r.headers["location"] == "/account"
    assert (
        app_client.get("/login?next=/account", follow_redirects=False).headers["location"]
        == "/account"
    )


def test_home_sends_each_to_their_start(app_client: TestClient) -> None:
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/published"
    log_in(app_client, "viewer")
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/items"


def test_html_in_names_and_labels_is_escaped(app_client: TestClient) -> None:
    evil = "<script>alert(1)</script>"
    r = app_client.post(
        "/login", data={"name": evil, "password": "whatever!!", "csrf": login_form(app_client)}
    )
    assert r.status_code == 401 and evil not in r.text and "&lt;script&gt;alert(1)" in r.text
    csrf = log_in(app_client, "admin")
    r = app_client.post(
        "/admin/users", data={"name": evil, "role": "viewer", "password": PASSWORD, "csrf": csrf}
    )
    assert r.status_code == 400 and evil not in r.text and "&lt;script&gt;" in r.text
    assert "not a usable account name" in r.text
    app_client.post("/account/tokens", data={"label": evil, "csrf": csrf})
    page = app_client.get("/account").text
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_adds_and_disables_accounts(app_client: TestClient) -> None:
    editor = new_client(app_client)
    log_in(editor, "editor")
    with db_of(app_client).begin() as session:
        editor_token = auth.new_token(session, auth.get_user(session, "editor"), "bot")
    csrf = log_in(app_client, "admin")
    r = app_client.post(
        "/admin/users",
        data={"name": "Olena", "role": "editor", "password": PASSWORD, "csrf": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert "olena" in app_client.get("/admin/users").text
    short = app_client.post(
        "/admin/users", data={"name": "taras", "role": "viewer", "password": "short", "csrf": csrf}
    )
    assert (
        short.status_code == 400
        and "shorter than 10" in short.text
        and 'value="taras"' in short.text
    )
    again = app_client.post(
        "/admin/users", data={"name": "olena", "role": "viewer", "password": PASSWORD, "csrf": csrf}
    )
    assert again.status_code == 400 and "exists already" in again.text
    r = app_client.post("/admin/users/editor/disable", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert editor.get("/api/me").status_code == 401
    bearer = {"Authorization": f"Bearer {editor_token}"}
    assert new_client(app_client).get("/api/me", headers=bearer).status_code == 401
    login = new_client(app_client)
    r = login.post(
        "/login", data={"name": "editor", "password": PASSWORD, "csrf": login_form(login)}
    )
    assert r.status_code == 401
    assert "Enable" in app_client.get("/admin/users").text
    r = app_client.post("/admin/users/editor/enable", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    log_in(login, "editor")
    assert new_client(app_client).get("/api/me", headers=bearer).status_code == 200
    self_disable = app_client.post("/admin/users/admin/disable", data={"csrf": csrf})
    assert self_disable.status_code == 400 and "your own account" in self_disable.text
    assert app_client.post("/admin/users/nobody/disable", data={"csrf": csrf}).status_code == 404
    with db_of(app_client)() as session:
        events = session.scalars(select(Event).where(Event.item_id.is_(None))).all()
    kinds = [(e.kind, e.actor, e.subject) for e in events]
    assert ("account_added", "admin", "olena") in kinds
    assert ("account_disabled", "admin", "editor") in kinds
    assert ("account_enabled", "admin", "editor") in kinds
    assert not any(PASSWORD in e.detail_json or editor_token in e.detail_json for e in events)


def test_users_api(app_client: TestClient) -> None:
    csrf = log_in(app_client, "admin")
    with db_of(app_client).begin() as session:
        admin_token = auth.new_token(session, auth.get_user(session, "admin"), "ops")
        viewer_token = auth.new_token(session, auth.get_user(session, "viewer"), "ro")
    api = new_client(app_client)
    admin = {"Authorization": f"Bearer {admin_token}"}
    assert (
        api.get("/api/users", headers={"Authorization": f"Bearer {viewer_token}"}).status_code
        == 403
    )
    names = [u["name"] for u in api.get("/api/users", headers=admin).json()]
    assert names == sorted(ROLES)
    r = api.post(
        "/api/users", headers=admin, json={"name": "mykola", "role": "viewer", "password": PASSWORD}
    )
    assert r.status_code == 201 and r.json()["role"] == "viewer" and "password" not in r.text
    bad = api.post(
        "/api/users", headers=admin, json={"name": "petro", "role": "owner", "password": PASSWORD}
    )
    assert bad.status_code == 400 and "Unknown role" in bad.json()["error"]
    assert "viewer, editor, admin" in bad.json()["hint"]
    r = api.post("/api/users/mykola/disable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert api.post("/api/users/nobody/disable", headers=admin).status_code == 404
    r = api.post("/api/users/mykola/enable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is False
    # a cookie request to the API is still CSRF-checked
    assert app_client.post("/api/users/viewer/disable").status_code == 403
    assert (
        app_client.post("/api/users/viewer/disable", headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/items/abc?x=1", "/items/abc?x=1"), ("/", "/"), ("", "/items"), ("//a.example", "/items"),
     ("/\\a.example", "/items"), ("/a\\b", "/items"), ("http://a.example/", "/items"),
     ("/a\x00b", "/items"), ("items", "/items")],
)  # fmt: skip
def test_safe_next(target: str, expected: str) -> None:
    assert auth.safe_next(target) == expected


def test_changing_your_own_password(app_client: TestClient) -> None:
    csrf = log_in(app_client, "editor")
    elsewhere = new_client(app_client)
    log_in(elsewhere, "editor")
    new = "a brand new passphrase"

    def change(current: str, again: str = new) -> str:
        r = app_client.post(
            "/account/password",
            data={"current": current, "new": new, "again": again, "csrf": csrf},
        )
        return f"{r.status_code} {r.text}"

    assert change("").startswith("400") and "Enter your current password" in change("")
    wrong = change("not my password")
    assert wrong.startswith("400") and "current password is wrong" in wrong
    differ = change(PASSWORD, again="something else!")
    assert differ.startswith("400") and "differ" in differ
    done = change(PASSWORD)
    assert done.startswith("200") and "Your password is changed" in done
    assert app_client.get("/api/me").status_code == 200  # this sign-in stays
    assert elsewhere.get("/api/me").status_code == 401  # the others end
    other = new_client(app_client)
    r = other.post(
        "/login", data={"name": "editor", "password": PASSWORD, "csrf": login_form(other)}
    )
    assert r.status_code == 401
    log_in(other, "editor", new)
    with db_of(app_client)() as session:
        tries = session.scalars(select(LoginAttempt).where(LoginAttempt.name == "editor")).all()
        events = session.scalars(select(Event).where(Event.kind == "password_set")).all()
    assert [t.ok for t in tries] == [True, True, False, True, True, False, True]
    assert [(e.actor, e.subject) for e in events] == [("editor", "editor")]
