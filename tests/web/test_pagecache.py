"""Kept pages and remembered sign-ins: never older than the store, never another role's page
or another person's token; a sign-out, a disabled account or a new role counts at once.

On PostgreSQL (no data version) nothing is kept: the same pages must then come out right
with every one built, and ``kept`` says how many of them should have been kept."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from starlette.responses import Response

from tolmach.store.desk import User
from tolmach.store.tables import Item
from tolmach.web import auth
from tolmach.web.deps import COOKIE, Desk, Viewer
from tolmach.web.pagecache import DataVersion, PageCache
from web.conftest import HX, PASSWORD, bearer, cookie_sign_in

ITEM = "0123456789ab"


def desk_of(client: TestClient) -> Desk:
    desk: Desk = client.app.state.desk  # type: ignore[attr-defined]
    return desk


def add_item(client: TestClient, item_id: str = ITEM) -> None:
    with desk_of(client).ws.db.begin() as session:
        session.add(
            Item(id=item_id, sha256=item_id.ljust(64, "0"), size=1, ext="mp4", kind="video",
                 duration=61.0, created_at=datetime(2026, 3, 1), status="processed")
        )  # fmt: skip


def client_as(client: TestClient, name: str) -> tuple[TestClient, str]:
    """Another client of the same app, signed in as ``name``, and its CSRF token."""
    other = TestClient(client.app, base_url="http://testserver")
    return other, cookie_sign_in(other, name)


def kept(client: TestClient, n: int) -> int:
    """``n`` where the desk keeps pages (SQLite), 0 where it cannot (PostgreSQL)."""
    return n if desk_of(client).pages.version.current() is not None else 0


def counted(client: TestClient, path: str) -> tuple[str, int]:
    """A page's text, and how many pages the desk served from those it kept meanwhile."""
    pages = desk_of(client).pages
    before = pages.hits
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.text, pages.hits - before


def test_pages_are_kept_and_change_with_every_commit_to_the_store(
    app_client: TestClient, tmp_path: Path
) -> None:
    add_item(app_client)
    cookie_sign_in(app_client, "viewer")
    first, _ = counted(app_client, "/items")
    again, hits = counted(app_client, "/items")
    assert hits == kept(app_client, 1) and again == first and 'review-state unstarted"' in first

    editor, csrf = client_as(app_client, "editor")  # a status change through the desk
    change = {"status": "needs_review", "note": "Check the date."}
    r = editor.post(f"/api/items/{ITEM}/status", json=change, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    page, hits = counted(app_client, "/items")
    assert hits == 0 and 'review-state needs_review"' in page
    assert 'review-state unstarted"' not in page

    # a pipeline run in another process writes to the same file
    assert counted(app_client, f"/items/{ITEM}")[1] == 0
    assert counted(app_client, f"/items/{ITEM}")[1] == kept(app_client, 1)
    other = create_engine(desk_of(app_client).settings.db_url)
    with other.begin() as conn:
        conn.execute(text("UPDATE items SET status = 'failed' WHERE id = :id"), {"id": ITEM})
    other.dispose()
    page, hits = counted(app_client, f"/items/{ITEM}")
    assert hits == 0 and "Pipeline status: <strong>failed</strong>" in page


def test_pages_are_kept_per_role_and_carry_the_askers_own_name_and_token(
    app_client: TestClient,
) -> None:
    add_item(app_client)
    with desk_of(app_client).ws.db.begin() as session:
        auth.add_user(session, "second", "viewer", PASSWORD)
    editor, editor_csrf = client_as(app_client, "editor")
    viewer, viewer_csrf = client_as(app_client, "viewer")
    second, second_csrf = client_as(app_client, "second")
    for path in ("/items", f"/items/{ITEM}", "/search?q=word", "/search/results?q=word"):
        as_editor, _ = counted(editor, path)
        as_viewer, hits = counted(viewer, path)
        assert hits == 0  # the editor's page is not the viewer's
        as_second, hits = counted(second, path)
        assert hits == kept(app_client, 1)  # the same role: the same kept page...
        if "results" not in path:  # a fragment has no navigation bar
            assert viewer_csrf in as_viewer and "Sign out viewer" in as_viewer
            assert second_csrf in as_second and "Sign out second" in as_second
        for page, own in ((as_editor, editor_csrf), (as_viewer, viewer_csrf)):
            others = {editor_csrf, viewer_csrf, second_csrf} - {own}
            assert not any(token in page for token in others)  # ...with the asker's bits
        assert "Sign out viewer" not in as_second and "Sign out second" not in as_viewer
    assert 'href="/intake"' in counted(editor, "/items")[0]
    assert 'href="/intake"' not in counted(viewer, "/items")[0]
    htmx = viewer.get("/items", headers=HX)  # kept apart from the whole page
    assert htmx.status_code == 200


def test_a_page_kept_for_an_api_token_is_not_given_to_a_cookie(app_client: TestClient) -> None:
    add_item(app_client)
    token = bearer(app_client, "viewer")
    viewer, csrf = client_as(app_client, "viewer")
    for _ in range(2):  # the first use of a token is written down: a change to the store
        plain = app_client.get("/items", headers=token)
        assert plain.status_code == 200 and "X-CSRF-Token" not in plain.text
    page, hits = counted(viewer, "/items")
    assert hits == 0 and f'"X-CSRF-Token": "{csrf}"' in page


def test_kept_pages_have_the_desks_headers_and_their_own_length(app_client: TestClient) -> None:
    add_item(app_client)
    cookie_sign_in(app_client, "viewer")
    first = app_client.get(f"/items/{ITEM}")
    assert counted(app_client, f"/items/{ITEM}")[1] == kept(app_client, 1)
    again = app_client.get(f"/items/{ITEM}")
    assert again.text == first.text and again.headers["content-type"] == "text/html; charset=utf-8"
    assert int(again.headers["content-length"]) == len(again.content)
    for name in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert again.headers[name] == first.headers[name]


def test_a_sign_out_counts_at_once_though_sign_ins_are_remembered(
    app_client: TestClient,
) -> None:
    csrf = cookie_sign_in(app_client, "editor")
    stolen = app_client.cookies[COOKIE]
    for _ in range(2):
        assert app_client.get("/api/me").json()["name"] == "editor"
    assert len(desk_of(app_client).signed_in) == kept(app_client, 1)  # remembered
    out = app_client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(app_client.app, base_url="http://testserver")
    replay.cookies.set(COOKIE, stolen)
    assert replay.get("/api/me").status_code == 401
    assert replay.get("/items", follow_redirects=False).status_code == 303


def test_a_disabled_account_or_a_new_role_counts_at_once(app_client: TestClient) -> None:
    editor, _ = client_as(app_client, "editor")
    token = bearer(app_client, "viewer")
    assert 'href="/intake"' in counted(editor, "/items")[0]
    assert app_client.get("/api/me", headers=token).status_code == 200
    with desk_of(app_client).ws.db.begin() as session:
        user = session.scalars(select(User).where(User.name == "editor")).one()
        user.role = "viewer"
    page, _ = counted(editor, "/items")
    assert 'href="/intake"' not in page
    assert editor.get("/api/me").json()["role"] == "viewer"
    with desk_of(app_client).ws.db.begin() as session:
        auth.disable_user(session, "viewer", by="admin")
        auth.disable_user(session, "editor", by="admin")
    assert app_client.get("/api/me", headers=token).status_code == 401
    assert editor.get("/api/me").status_code == 401


def test_one_build_for_many_askers_and_errors_are_not_kept(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    pages = PageCache(DataVersion(engine))
    built: list[str] = []

    def build(shown: Viewer) -> Response:
        built.append(shown.name)
        return Response(f"<p>{shown.name} {shown.csrf}</p>")

    def fail(shown: Viewer) -> Response:
        built.append("failed")
        raise ValueError("no such page")

    async def ask(key: str, who: Viewer, how: object = build) -> bytes:
        return bytes((await pages.serve(key, who, how)).body)  # type: ignore[arg-type]

    async def main() -> None:
        people = [Viewer(f"person{n}", "viewer", "cookie", f"token{n}") for n in range(20)]
        answers = await asyncio.gather(*(ask("page", who) for who in people))
        assert answers == [f"<p>person{n} token{n}</p>".encode() for n in range(20)]
        assert built == [pages.name_mark]
        for _ in range(2):
            with pytest.raises(ValueError):
                await ask("broken", people[0], fail)
        assert built.count("failed") == 2
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert await ask("page", people[1]) == b"<p>person1 token1</p>"
        assert len(built) == 4  # built again after the commit

    asyncio.run(main())
    pages.version.close()
    engine.dispose()


def test_nothing_is_kept_where_the_database_has_no_data_version() -> None:
    pages = PageCache(DataVersion(create_engine("sqlite://")))
    assert pages.version.current() is None
    seen: list[str] = []

    def build(shown: Viewer) -> Response:
        seen.append(shown.name)
        return Response(shown.name)

    async def main() -> None:
        for _ in range(2):
            await pages.serve("page", Viewer("olena", "viewer", "cookie", "t"), build)

    asyncio.run(main())
    assert seen == ["olena", "olena"]  # the real viewer, each time


@pytest.mark.model
def test_an_edited_segment_shows_on_the_kept_item_page_at_once(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    csrf = cookie_sign_in(client, "editor")
    before, _ = counted(client, f"/items/{item_id}")
    assert counted(client, f"/items/{item_id}") == (before, kept(client, 1))
    assert 'class="seg reviewed"' not in before
    edit = {"field": "english", "text": "Appeal of the 96th regiment, edited."}
    saved = client.post(f"/items/{item_id}/segments/0", data=edit | {"csrf": csrf})
    assert saved.status_code == 200  # the redirect, followed: the item page
    assert "Appeal of the 96th regiment, edited." in saved.text
    page, _ = counted(client, f"/items/{item_id}")
    assert "Appeal of the 96th regiment, edited." in page and 'class="seg reviewed"' in page
