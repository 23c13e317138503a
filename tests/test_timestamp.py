"""Trusted timestamps against a real local RFC 3161 authority (openssl ts), verified by openssl."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from conftest import MediaFactory
from tolmach import timestamp
from tolmach.cli import app
from tolmach.config import Settings
from tolmach.errors import EngineError
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Capture, Event, Timestamp
from tolmach.workspace import Workspace
from tsa import LocalTSA, tsa_fixture, tsa_server_fixture, verify_token  # noqa: F401


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsr"


@pytest.fixture
def clip(media: MediaFactory) -> Path:
    return media.silent_video(seconds=1)


def _ws(settings: Settings, url: str) -> Workspace:
    return Workspace.open(settings.model_copy(update={"tsa_url": url, "tsa_timeout_s": 10.0}))


def test_ingest_stamps_the_capture_record_and_openssl_verifies_it(
    settings: Settings, clip: Path, tsa: LocalTSA, tmp_path: Path
) -> None:
    ws = _ws(settings, tsa.url)
    got = ws.ingest(clip)
    assert got.warnings == ()
    with ws.db() as session:
        cap = session.get(Capture, got.capture_id)
        assert cap is not None
        (row,) = session.scalars(select(Timestamp)).all()
        kinds = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    ws.close()
    assert kinds == ["captured", "timestamped"]
    assert row.capture_id == cap.id and row.stamped_sha256 == cap.record_sha256
    assert row.tsa_url == tsa.url
    token = tmp_path / "token.tsr"
    token.write_bytes(ws.blobs.read_bytes(row.token_sha256))
    assert hashlib.sha256(token.read_bytes()).hexdigest() == row.token_sha256
    ok = verify_token(tsa, token, cap.record_sha256)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verification: OK" in ok.stdout
    other = hashlib.sha256(b"a different capture record").hexdigest()
    bad = verify_token(tsa, token, other)
    assert bad.returncode != 0
    _, _, pems = timestamp.read_token(token.read_bytes())
    assert pems.count("BEGIN CERTIFICATE") == 2  # the TSA's certificate and its CA's


def test_authority_down_keeps_the_capture_and_stamp_retries(
    settings: Settings, clip: Path, tsa: LocalTSA, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _ws(settings, _closed_port_url())
    got = ws.ingest(clip)
    assert len(got.warnings) == 1 and "tolmach stamp" in got.warnings[0]
    with ws.db() as session:
        assert session.get(Capture, got.capture_id) is not None
        assert session.scalars(select(Timestamp)).all() == []
        failed = session.scalars(select(Event).where(Event.kind == "timestamp-failed")).one()
        assert failed.item_id == got.item_id
    ws.close()
    monkeypatch.setenv("TOLMACH_TSA_URL", tsa.url)
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "stamp", got.item_id])
    assert result.exit_code == 0, result.output
    assert "1 capture" in result.output
    with ws.db() as session:
        (row,) = session.scalars(select(Timestamp)).all()
        assert row.capture_id == got.capture_id
    again = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "stamp", got.item_id])
    assert again.exit_code == 0 and "already" in again.output


def test_stamp_command_reports_a_down_authority_in_one_line(
    settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _ws(settings, "")
    item = ws.ingest(clip).item_id
    ws.close()
    monkeypatch.setenv("TOLMACH_TSA_URL", _closed_port_url())
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "stamp", item])
    assert result.exit_code == EngineError.exit_code
    assert "timestamp authority" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_a_broken_authority_is_an_engine_error(
    settings: Settings, tsa: LocalTSA, mode: str
) -> None:
    tsa.mode = mode
    with pytest.raises(EngineError, match="timestamp authority"):
        timestamp.fetch(settings.model_copy(update={"tsa_url": tsa.url}), b"\0" * 32)


def test_a_token_over_another_hash_or_nonce_is_refused(tsa: LocalTSA) -> None:
    asked = hashlib.sha256(b"record").digest()
    body = tsa.reply(timestamp.request(asked, 42))
    assert timestamp.parse_reply(body, asked, 42).digest_hex == asked.hex()
    with pytest.raises(EngineError, match="different hash"):
        timestamp.parse_reply(body, hashlib.sha256(b"other").digest(), 42)
    with pytest.raises(EngineError, match="nonce"):
        timestamp.parse_reply(body, asked, 43)


def test_stamp_stores_token_in_blob_store(
    db: sessionmaker[Session], blobs: BlobStore, settings: Settings, clip: Path, tsa: LocalTSA
) -> None:
    ws = _ws(settings, "")
    cap_id = ws.ingest(clip).capture_id
    ws.close()
    with db.begin() as session:
        cap = session.get(Capture, cap_id)
        assert cap is not None
        row = timestamp.stamp(settings.model_copy(update={"tsa_url": tsa.url}), blobs, session, cap)
    assert blobs.has(row.token_sha256)
    assert len(tsa.requests) == 1
