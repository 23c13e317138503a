"""URL capture end to end against a real local site: real yt-dlp, warcio, py-wacz."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_site import AUTHOR, POST_TEXT, Site, events, open_ws, serve, stored
from typer.testing import CliRunner

from conftest import REPO
from tolmach.capture.reader import check as check_archive
from tolmach.cli import app
from tolmach.store.tables import Capture, Item
from tolmach.workspace import Workspace

BIN = REPO / ".venv" / "bin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = open_ws(tmp_path)
    yield w
    w.close()


def _blob_copy(ws: Workspace, sha: str, to: Path) -> Path:
    to.write_bytes(ws.blobs.read_bytes(sha))
    return to


def _files(ws: Workspace, capture_id: int) -> dict[str, dict[str, object]]:
    with ws.db() as s:
        cap = s.get(Capture, capture_id)
        assert cap is not None
        return {f["role"]: f for f in json.loads(cap.files_json)}


def test_post_page_is_captured_with_media_archive_and_text(
    ws: Workspace, site: Site, tmp_path: Path
) -> None:
    url = site.url("/post/1")
    done = ws.ingest_url(url)
    assert done.new_item
    rec = done.record
    assert rec["schema"] == "tolmach.capture/1"
    assert rec["sha256"] == hashlib.sha256(site.clip).hexdigest()
    assert rec["source"]["kind"] == "url" and rec["source"]["url"] == url
    assert rec["source"]["http_status"] == 200 and rec["source"]["final_url"] == url
    assert rec["source"]["media_urls"] == [site.url("/media/clip.mp4")]
    assert rec["page"]["text"] == POST_TEXT
    assert rec["page"]["uploader"] == AUTHOR
    assert rec["media"]["duration"] > 5

    files = _files(ws, done.capture_id)
    assert set(files) == {"media", "wacz", "page"}
    for f in files.values():
        sha = str(f["sha256"])
        assert ws.blobs.has(sha)
        assert ws.blobs.path(sha).stat().st_size == f["size"]
    assert files["media"]["sha256"] == rec["sha256"]
    assert [f["role"] for f in rec["files"]] == ["media", "wacz", "page"]

    with ws.db() as s:
        cap = s.get(Capture, done.capture_id)
        item = s.get(Item, done.item_id)
        assert cap is not None and item is not None
        assert (cap.kind, cap.url, cap.source) == ("url", url, url)
        assert json.loads(cap.page_json)["text"] == POST_TEXT
        assert (item.kind, item.ext) == ("video", "mp4")

    page = json.loads(ws.blobs.read_bytes(str(files["page"]["sha256"])))
    assert page["text"] == POST_TEXT and page["source"]["url"] == url
    assert page["meta"]["og:site_name"] == "Test Platform"

    wacz = _blob_copy(ws, str(files["wacz"]["sha256"]), tmp_path / "capture.wacz")
    check = subprocess.run(
        [str(BIN / "wacz"), "validate", "--file", str(wacz)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(wacz) as z:
        names = z.namelist()
        pages = z.read("pages/pages.jsonl").decode()
        warc = tmp_path / "capture.warc.gz"
        warc.write_bytes(z.read("archive/capture.warc.gz"))
    assert "indexes/index.cdx.gz" in names and "datapackage.json" in names
    entries = [json.loads(line) for line in pages.splitlines() if line.strip()]
    assert [e["url"] for e in entries if "url" in e] == [url]
    ours = check_archive(wacz)
    assert ours.ok and ours.pages == 1, ours.problems
    assert ours.types["response"] == 2 and ours.types["warcinfo"] == 1
    check = subprocess.run([str(BIN / "warcio"), "check", "-v", str(warc)], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr

    from warcio.archiveiterator import ArchiveIterator

    with warc.open("rb") as fh:
        recs = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(fh)
        ]
    assert recs[0][0] == "warcinfo"
    assert ("response", url) in recs and ("request", url) in recs
    assert ("response", site.url("/media/clip.mp4")) in recs
    with warc.open("rb") as fh:
        for r in ArchiveIterator(fh):
            if r.rec_type == "response" and r.rec_headers.get_header("WARC-Target-URI").endswith(
                "clip.mp4"
            ):
                assert r.content_stream().read() == site.clip

    assert [e.item_id for e in events(ws, "captured")] == [done.item_id]
    assert events(ws, "capture-failed") == []


def test_same_url_twice_is_one_item_two_captures(ws: Workspace, site: Site) -> None:
    first = ws.ingest_url(site.url("/post/1"))
    second = ws.ingest_url(site.url("/post/1"))
    assert first.item_id == second.item_id
    assert first.new_item and not second.new_item
    assert first.capture_id != second.capture_id
    items, caps, _ = stored(ws)
    assert (items, caps) == (1, 2)


def test_direct_link_and_redirect_and_file_share_one_item(
    ws: Workspace, site: Site, tmp_path: Path
) -> None:
    direct = ws.ingest_url(site.url("/direct.mp4"))
    assert direct.record["source"]["http_status"] == 200
    moved = ws.ingest_url(site.url("/moved/post"))
    assert moved.record["source"]["final_url"] == site.url("/post/1")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(site.clip)
    local = ws.ingest(clip)
    assert direct.item_id == moved.item_id == local.item_id
    assert stored(ws)[:2] == (1, 3)
    with ws.db() as s:
        kinds = [c.kind for c in s.get(Item, local.item_id).captures]  # type: ignore[union-attr]
    assert kinds == ["url", "url", "file"]


def test_cli_ingest_url(site: Site, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "TOLMACH_CAPTURE_SCREENSHOT": "false",
        "TOLMACH_OPERATOR": "cli-tester",
        "TOLMACH_TSA_URL": "http://127.0.0.1:9/tsa",  # nothing listens: the capture stays
    }
    res = runner.invoke(
        app,
        ["--data-dir", str(tmp_path / "d"), "ingest", site.url("/post/1"), "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["new"] is True
    assert len(data["warnings"]) == 1 and data["warnings"][0].startswith("not timestamped")
    assert data["capture"]["source"]["kind"] == "url"
    assert data["capture"]["operator"] == "cli-tester"


def test_cli_archive_export_writes_the_capture_files(site: Site, tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "d")]
    env = {"TOLMACH_CAPTURE_SCREENSHOT": "false"}
    res = runner.invoke(app, [*data, "ingest", site.url("/post/1"), "--json"], env=env)
    item = json.loads(res.stdout)["item_id"]
    out = tmp_path / "out"
    res = runner.invoke(app, [*data, "archive", "export", item, "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    (folder,) = out.iterdir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["capture.wacz", "media.mp4", "page.json"]
    assert (folder / "media.mp4").read_bytes() == site.clip
    res = runner.invoke(app, [*data, "archive", "check", str(folder / "capture.wacz")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*data, "archive", "export", "ffffff", "--out", str(out)])
    assert res.exit_code == 3 and "No URL capture" in res.output


def test_media_link_that_refuses_a_second_fetch_is_noted_not_fatal(
    ws: Workspace, site: Site
) -> None:
    done = ws.ingest_url(site.url("/post/once?k=first"))
    assert done.record["sha256"] == hashlib.sha256(site.clip).hexdigest()
    (note,) = done.record["source"]["notes"]
    assert "not fully archived" in note and "403" in note


def test_progress_is_reported_while_downloading(ws: Workspace, site: Site) -> None:
    seen: list[tuple[int, int]] = []
    ws.ingest_url(site.url("/post/1"), lambda done, total: seen.append((done, total)))
    assert seen and max(done for done, _ in seen) == len(site.clip)


def test_direct_audio_link_is_an_audio_item(ws: Workspace, site: Site) -> None:
    done = ws.ingest_url(site.url("/voice.m4a"))
    assert done.record["sha256"] == hashlib.sha256(site.voice).hexdigest()
    with ws.db() as s:
        item = s.get(Item, done.item_id)
        assert item is not None and item.kind == "audio"
