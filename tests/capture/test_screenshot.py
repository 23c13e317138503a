"""Screenshots with real headless Chromium: of a captured post, and when the browser fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_site import Site, open_ws, serve

from tolmach.capture import screenshot
from tolmach.errors import ToolError

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory)


def _pixels_differ(png: Path) -> bool:
    """Whether the picture is more than one flat colour (compressed size as a cheap proxy)."""
    return png.stat().st_size > 20_000


def test_capture_keeps_a_screenshot_of_the_post(site: Site, tmp_path: Path) -> None:
    ws = open_ws(tmp_path, capture_screenshot=True)
    try:
        done = ws.ingest_url(site.url("/post/1"))
        files = {f["role"]: f for f in done.record["files"]}
        assert set(files) == {"media", "wacz", "screenshot", "page"}
        png = tmp_path / "shot.png"
        png.write_bytes(ws.blobs.read_bytes(files["screenshot"]["sha256"]))
        width, height = screenshot.png_size(png)
        assert width == screenshot.WIDTH and 300 < height < screenshot.HEIGHT  # measured
        assert _pixels_differ(png), f"screenshot is only {png.stat().st_size} bytes"
        assert "screenshot_error" not in done.record["source"]
    finally:
        ws.close()


def test_a_long_page_is_shot_whole(site: Site, tmp_path: Path) -> None:
    png = screenshot.screenshot(site.url("/tall"), tmp_path / "tall.png", timeout_s=60)
    width, height = screenshot.png_size(png)
    assert width == screenshot.WIDTH and height > 5000


def test_plain_command_line_shot_is_the_fallback(site: Site, tmp_path: Path) -> None:
    png = screenshot.tall_window(site.url("/tall"), tmp_path / "top.png", timeout_s=60)
    assert screenshot.png_size(png) == (screenshot.WIDTH, screenshot.HEIGHT)


def test_text_page_screenshot_differs_from_a_blank_page(site: Site, tmp_path: Path) -> None:
    post = screenshot.screenshot(site.url("/post/1"), tmp_path / "post.png", timeout_s=60)
    blank = screenshot.screenshot("about:blank", tmp_path / "blank.png", timeout_s=60)
    assert post.read_bytes() != blank.read_bytes()
    assert post.stat().st_size > blank.stat().st_size


def test_a_broken_browser_costs_the_screenshot_not_the_capture(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    with pytest.raises(ToolError, match="could not screenshot"):
        screenshot.screenshot(site.url("/post/1"), tmp_path / "x.png", timeout_s=30)
    ws = open_ws(tmp_path, capture_screenshot=True)
    try:
        done = ws.ingest_url(site.url("/post/1"))
        roles = [f["role"] for f in done.record["files"]]
        assert roles == ["media", "wacz", "page"]
        assert "could not screenshot" in done.record["source"]["screenshot_error"]
        page = json.loads(ws.blobs.read_bytes(done.record["files"][2]["sha256"]))
        assert "screenshot_error" in page["source"]
    finally:
        ws.close()
