"""Anchoring the custody log's head with a real RFC 3161 token (local openssl authority): the
newest entries deleted, which the hash chain alone can't show, are found by `verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from conftest import MediaFactory
from tolmach import anchor
from tolmach.cli import app
from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.store.tables import ChainAnchor, Event
from tolmach.verify import verify_store
from tolmach.workspace import Workspace
from tsa import LocalTSA, tsa_fixture, tsa_server_fixture, verify_token  # noqa: F401


@pytest.fixture
def ws(settings: Settings, tsa: LocalTSA, media: MediaFactory) -> Workspace:
    ws = Workspace.open(settings.model_copy(update={"tsa_url": tsa.url, "tsa_timeout_s": 10.0}))
    ws.ingest(media.silent_video(seconds=1))
    ws.ingest(media.silent_video("two.mp4", seconds=2))
    return ws


def _kinds(ws: Workspace) -> list[str]:
    return [f.kind for f in verify_store(ws.db, ws.blobs).findings]


def test_anchor_token_is_over_the_head_and_openssl_verifies_it(
    ws: Workspace, tsa: LocalTSA, tmp_path: Path
) -> None:
    row = anchor.make_anchor(ws.db, ws.blobs, ws.settings)
    with ws.db() as session:
        head = session.get(Event, row.event_id)
        last = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert head is not None and head.hash == row.head_hash
    assert last is not None and last.kind == "anchored" and last.id == row.event_id + 1
    token = tmp_path / "anchor.tsr"
    token.write_bytes(ws.blobs.read_bytes(row.token_sha256))
    assert verify_token(tsa, token, row.head_hash).returncode == 0
    report = verify_store(ws.db, ws.blobs)
    assert report.ok and report.anchors == 1


def test_deleting_the_newest_entries_is_found_only_through_the_anchor(ws: Workspace) -> None:
    row = anchor.make_anchor(ws.db, ws.blobs, ws.settings)
    with ws.db.begin() as session:  # the anchored head and everything after it
        session.execute(delete(Event).where(Event.id >= row.event_id))
    assert _kinds(ws) == ["anchor-broken"]  # the shortened chain itself still links up
    with ws.db.begin() as session:
        session.execute(delete(ChainAnchor))
    assert _kinds(ws) == []  # with the stored anchors gone too, only a kept receipt shows it


def test_a_receipt_kept_elsewhere_survives_the_anchors_being_deleted(ws: Workspace) -> None:
    kept = anchor.receipt(anchor.make_anchor(ws.db, ws.blobs, ws.settings), ws.blobs)
    with ws.db.begin() as session:
        session.execute(delete(ChainAnchor))
        session.execute(delete(Event).where(Event.id >= kept["event_id"]))
    report = verify_store(ws.db, ws.blobs, receipts=[kept])
    assert [(f.kind, f.subject) for f in report.findings] == [("anchor-broken", "receipt 1")]
    assert "deleted" in report.findings[0].detail
    forged = {**kept, "head_hash": "0" * 64}
    with ws.db() as session:
        assert "token is over" in anchor.check(session, ws.blobs, [forged])[0][1]


def test_an_empty_log_has_nothing_to_anchor(settings: Settings, tsa: LocalTSA) -> None:
    ws = Workspace.open(settings.model_copy(update={"tsa_url": tsa.url}))
    with pytest.raises(InputError, match="nothing to anchor"):
        anchor.make_anchor(ws.db, ws.blobs, ws.settings)
    assert tsa.requests == []


def test_cli_anchor_receipt_and_verify(ws: Workspace, tsa: LocalTSA, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TOLMACH_DATA_DIR": str(ws.settings.data_dir), "TOLMACH_TSA_URL": tsa.url}
    receipt = tmp_path / "receipt.json"
    res = runner.invoke(app, ["anchor", "--out", str(receipt)], env=env)
    assert res.exit_code == 0, res.output
    assert "custody log anchored at entry" in res.stdout
    res = runner.invoke(app, ["verify", "--anchor", str(receipt), "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["checked"]["anchors"] == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}')
    res = runner.invoke(app, ["verify", "--anchor", str(bad)], env=env)
    assert res.exit_code == 2 and "not a tolmach anchor receipt" in res.output
    res = runner.invoke(app, ["anchor"], env={**env, "TOLMACH_TSA_URL": ""})
    assert res.exit_code == 7 and "No timestamp authority" in res.output
