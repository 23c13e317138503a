"""Bad URLs: each gives one clear error, stores nothing, and is logged as a failed attempt."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_site import Site, events, open_ws, serve, stored
from typer.testing import CliRunner

from tolmach.cli import app
from tolmach.errors import EngineError, InputError, NotFoundError, TolmachError
from tolmach.workspace import Workspace


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens here once it is closed


CASES = [
    # (path or absolute URL, error class, words the message must contain, settings)
    ("/gone", NotFoundError, "HTTP 404", {}),
    ("/loop/a", EngineError, "redirects in a loop", {}),
    ("/huge.mp4", InputError, "larger than the capture cap", {"capture_max_bytes": 2 << 20}),
    ("/post/huge", InputError, "larger than the capture cap", {"capture_max_bytes": 2 << 20}),
    ("/post/big", InputError, "larger than the capture cap", {"capture_max_bytes": 2 << 20}),
    ("/lie/html-as-video.mp4", InputError, "sent an HTML page", {}),
    ("/lie/video-as-html", InputError, "sent video or audio bytes", {}),
    ("/nomedia", InputError, "No video or audio was found", {}),
    ("/post/lying-media", InputError, "sent an HTML page", {}),
    ("/slow", EngineError, "in time", {"capture_timeout_s": 1.0}),
    ("http://tolmach-test.invalid/post/1", NotFoundError, "does not exist (DNS", {}),
    ("CLOSED", EngineError, "Could not connect", {}),
]


@pytest.mark.parametrize(
    ("where", "error", "words", "settings"), CASES, ids=[c[0].strip("/") for c in CASES]
)
def test_bad_source_stores_nothing(
    site: Site,
    tmp_path: Path,
    where: str,
    error: type[TolmachError],
    words: str,
    settings: dict[str, object],
) -> None:
    if where == "CLOSED":
        url = f"http://127.0.0.1:{_closed_port()}/post/1"
    else:
        url = where if where.startswith("http") else site.url(where)
    ws: Workspace = open_ws(tmp_path, **settings)
    try:
        ws.blobs.root.mkdir(parents=True, exist_ok=True)
        before = stored(ws)
        with pytest.raises(error) as caught:
            ws.ingest_url(url)
        assert words in caught.value.message
        assert caught.value.hint, "every error says what to do"
        assert stored(ws) == before == (0, 0, set())
        failed = events(ws, "capture-failed")
        assert len(failed) == 1
        assert failed[0].subject == url and failed[0].item_id is None
        assert words in json.loads(failed[0].detail_json)["error"]
        assert events(ws, "captured") == []
        assert list((ws.settings.work_dir).iterdir()) == []  # the temporary folder is gone
    finally:
        ws.close()


def test_cli_bad_url_is_one_clear_message(site: Site, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "ingest", site.url("/gone")])
    assert res.exit_code == NotFoundError.exit_code
    assert "HTTP 404" in res.output and "what to do" in res.output
    assert "Traceback" not in res.output


def test_not_a_web_address_is_refused(tmp_path: Path) -> None:
    ws = open_ws(tmp_path)
    try:
        with pytest.raises(InputError, match="not a web address"):
            ws.ingest_url("http:///no-host")
        assert stored(ws)[:2] == (0, 0)
    finally:
        ws.close()
