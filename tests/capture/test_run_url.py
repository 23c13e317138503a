"""`tolmach run URL` end to end: capture a post from the local site, then every stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_site import POST_TEXT, Site, serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory)


@pytest.mark.model
@pytest.mark.slow
def test_run_url_end_to_end(site: Site, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TOLMACH_DATA_DIR": str(tmp_path / "data"),
        "TOLMACH_CAPTURE_SCREENSHOT": "false",
        "TOLMACH_RENDER_VERTICAL": "false",
    }
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "tolmach", "run", site.url("/post/1"), "--out", str(out), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["language"] == "ru" and summary["segments"] >= 1
    capture = json.loads((out / "capture.json").read_text())
    assert capture["source"]["kind"] == "url"
    assert capture["source"]["url"] == site.url("/post/1")
    assert (out / "original.mp4").read_bytes() == site.clip
    # The page archive and post info travel with the export, listed in the manifest.
    manifest = json.loads((out / "manifest.json").read_text())
    by_name = {f["name"]: f for f in manifest["files"]}
    assert by_name["capture.wacz"]["role"] == "wacz"
    assert by_name["page.json"]["role"] == "page"
    assert POST_TEXT in json.loads((out / "page.json").read_text())["text"]
