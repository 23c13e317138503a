"""`tolmach verify`: an intact store passes; each kind of tampering is found and named."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from conftest import MediaFactory
from tolmach import custody
from tolmach.cli import app
from tolmach.config import Settings
from tolmach.store.tables import Capture, Output, StageRun, Timestamp, utcnow
from tolmach.verify import hash_path
from tolmach.workspace import Workspace
from tsa import LocalTSA, tsa_fixture, tsa_server_fixture  # noqa: F401


@dataclass
class Store:
    settings: Settings
    item_id: str
    original: str
    transcript: str
    screenshot: str
    token: str

    def blob(self, sha: str) -> Path:
        return self.settings.blob_dir / sha[:2] / sha[2:4] / sha

    def sql(self, statement: str) -> None:
        engine = create_engine(self.settings.db_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()


@pytest.fixture(name="store")
def store_fixture(settings: Settings, media: MediaFactory, tsa: LocalTSA) -> Store:
    ws = Workspace.open(settings.model_copy(update={"tsa_url": tsa.url}))
    got = ws.ingest(media.silent_video(seconds=1))
    transcript, size = ws.blobs.put_bytes(b'{"segments": []}')
    shot, shot_size = ws.blobs.put_bytes(b"\x89PNG screenshot bytes")
    with ws.db.begin() as session:
        run = StageRun(
            item_id=got.item_id, stage="transcribe", input_key="k", status="done",
            started_at=utcnow(),
        )  # fmt: skip
        session.add(run)
        session.flush()
        session.add(Output(run_id=run.id, name="transcript.json", sha256=transcript, size=size))
        cap = session.get(Capture, got.capture_id)
        assert cap is not None
        files = [
            {"name": "clip.mp4", "role": "media", "sha256": cap.item.sha256, "size": 1},
            {"name": "page.png", "role": "screenshot", "sha256": shot, "size": shot_size},
        ]
        cap.files_json = json.dumps(files)
        custody.append(
            session, kind="processed", actor="tester", item_id=got.item_id,
            detail={"stage": "transcribe", "outputs": {"transcript.json": transcript}},
        )  # fmt: skip
        custody.append(session, kind="note", actor="tester", item_id=got.item_id)
    with ws.db() as session:
        token = session.scalars(select(Timestamp.token_sha256)).one()
        original = session.scalars(select(Capture)).one().item.sha256
    ws.close()
    return Store(settings, got.item_id, original, transcript, shot, token)


def _verify(store: Store) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        app, ["--data-dir", str(store.settings.data_dir), "verify", "--json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_an_intact_store_verifies(store: Store) -> None:
    code, report = _verify(store)
    assert (code, report["problems"]) == (0, [])
    assert report["checked"]["blobs"] == 5  # original, record, transcript, screenshot, token
    assert report["checked"]["events"] == 4
    assert report["checked"]["timestamps"] == 1


def _overwrite(path: Path, data: bytes) -> None:
    os.chmod(path, 0o644)
    path.write_bytes(data)


def _tamper_original(s: Store) -> None:
    p = s.blob(s.original)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 1
    _overwrite(p, bytes(data))


TAMPERING: dict[str, tuple[Callable[[Store], None], str, str]] = {
    "original bytes": (_tamper_original, "blob-changed", "original of item"),
    "output deleted": (
        lambda s: s.blob(s.transcript).unlink(),
        "blob-missing",
        "output transcript.json",
    ),
    "capture file deleted": (
        lambda s: s.blob(s.screenshot).unlink(),
        "blob-missing",
        "capture file page.png",
    ),
    "token changed": (
        lambda s: _overwrite(s.blob(s.token), b"forged"),
        "blob-changed",
        "timestamp token",
    ),
    "event detail edited": (
        lambda s: s.sql("""UPDATE events SET detail_json = '{"stage": "forged"}' WHERE id = 3"""),
        "event-changed",
        "custody entry 3",
    ),
    "event deleted": (
        lambda s: s.sql("DELETE FROM events WHERE id = 2"),
        "chain-broken",
        "custody entry 3",
    ),
    "capture source edited": (
        lambda s: s.sql("UPDATE captures SET source = '/elsewhere/clip.mp4'"),
        "capture-changed",
        "capture 1",
    ),
    "timestamp row repointed": (
        lambda s: s.sql(f"UPDATE timestamps SET stamped_sha256 = '{'0' * 64}'"),
        "timestamp-mismatch",
        "timestamp 1",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_is_found_and_named(store: Store, case: str) -> None:
    tamper, kind, subject = TAMPERING[case]
    tamper(store)
    code, report = _verify(store)
    assert code == 1
    found = [(p["kind"], p["subject"]) for p in report["problems"]]
    assert any(k == kind and subject in s for k, s in found), found


def test_plain_output_names_each_problem(store: Store) -> None:
    store.blob(store.transcript).unlink()
    result = CliRunner().invoke(app, ["--data-dir", str(store.settings.data_dir), "verify"])
    assert result.exit_code == 1
    assert "blob-missing" in result.stdout and "1 problems" in result.stdout


def test_hash_path_matches_hashlib(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    import hashlib

    assert hash_path(p) == hashlib.sha256(p.read_bytes()).hexdigest()


def test_entries_from_before_the_chain_are_sealed_not_reported(store: Store) -> None:
    store.sql(
        "INSERT INTO events (item_id, at, actor, kind, subject, detail_json, prev_hash,"
        " item_prev_hash, hash) VALUES (NULL, '2026-01-01 00:00:00.000000', 'old', 'note', '',"
        " '{}', '', '', '')"
    )
    code, report = _verify(store)
    assert (code, report["problems"]) == (0, [])
    assert report["checked"]["events"] == 5
