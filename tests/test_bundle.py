"""Evidence bundles: export, offline verification, and each kind of tampering refused."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from test_verify import Store, store_fixture  # noqa: F401
from tolmach.cli import app
from tolmach.store.db import open_db
from tolmach.store.tables import Event
from tsa import LocalTSA, make_tsa_files, tsa_fixture, tsa_server_fixture  # noqa: F401


def _cli(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(store.settings.data_dir), *args])
    return result.exit_code, result.output


@pytest.fixture
def bundle(store: Store, tmp_path: Path) -> Path:
    dest = tmp_path / "out" / "evidence.zip"
    code, output = _cli(store, "export", store.item_id, "--bundle", str(dest))
    assert code == 0, output
    return dest


def _rewrite(
    src: Path, dest: Path, changes: dict[str, bytes | None], fix_manifest: bool = False
) -> Path:
    """A copy of a bundle with members replaced (None: removed), the manifest re-hashed if asked."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    for name, data in changes.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    if fix_manifest:
        manifest = json.loads(members["manifest.json"])
        for f in manifest["files"]:
            if f["name"] in members:
                f["sha256"] = hashlib.sha256(members[f["name"]]).hexdigest()
                f["size"] = len(members[f["name"]])
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dest, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return dest


def test_a_good_bundle_holds_everything_and_verifies(store: Store, bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
    assert {
        "manifest.json", "original.mp4", "captures/1/record.json", "captures/1/files/page.png",
        "captures/1/timestamps/1.tsr", "captures/1/timestamps/1.certs.pem", "custody.jsonl",
        "outputs/transcript.json",
    } == names  # fmt: skip
    code, output = _cli(store, "verify-bundle", str(bundle))
    assert code == 0, output
    assert "intact" in output and "signature verified" in output
    factory = open_db(store.settings.db_url)
    with factory() as session:
        last = session.scalars(select(Event).order_by(Event.id.desc())).first()
    factory.kw["bind"].dispose()
    assert last is not None and last.kind == "exported"
    assert json.loads(last.detail_json)["sha256"] == hashlib.sha256(bundle.read_bytes()).hexdigest()


def test_a_trusted_ca_given_by_the_user_is_used(store: Store, bundle: Path, tsa: LocalTSA) -> None:
    code, output = _cli(store, "verify-bundle", str(bundle), "--ca", str(tsa.ca), "--json")
    assert code == 0, output
    assert json.loads(output)["checked"]["tokens"] == 1


def test_a_token_from_another_ca_fails(store: Store, bundle: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-ca"
    other.mkdir()
    make_tsa_files(other)
    code, output = _cli(store, "verify-bundle", str(bundle), "--ca", str(other / "ca.pem"))
    assert code == 1
    assert "signature does not verify" in output


def test_a_changed_file_fails(store: Store, bundle: Path, tmp_path: Path) -> None:
    bad = _rewrite(bundle, tmp_path / "bad.zip", {"outputs/transcript.json": b'{"forged": 1}'})
    code, output = _cli(store, "verify-bundle", str(bad))
    assert code == 1
    assert "outputs/transcript.json was changed" in output


@pytest.mark.parametrize("line", [0, 1])
def test_a_removed_custody_line_fails_even_with_a_fixed_manifest(
    store: Store, bundle: Path, tmp_path: Path, line: int
) -> None:
    with zipfile.ZipFile(bundle) as zf:
        lines = zf.read("custody.jsonl").decode().splitlines(keepends=True)
    cut = "".join(lines[:line] + lines[line + 1 :]).encode()
    bad = _rewrite(bundle, tmp_path / "bad.zip", {"custody.jsonl": cut}, fix_manifest=True)
    code, output = _cli(store, "verify-bundle", str(bad))
    assert code == 1
    assert "chain broken" in output


def test_a_replaced_capture_record_fails_its_timestamp(
    store: Store, bundle: Path, tmp_path: Path
) -> None:
    forged = b'{"source": "somewhere else"}'
    bad = _rewrite(bundle, tmp_path / "bad.zip", {"captures/1/record.json": forged}, True)
    code, output = _cli(store, "verify-bundle", str(bad))
    assert code == 1
    assert "not the capture record the manifest names" in output


def test_a_record_listing_a_file_not_in_the_bundle_fails(
    store: Store, bundle: Path, tmp_path: Path
) -> None:
    record = json.dumps({"files": [{"name": "page.wacz", "sha256": "ab" * 32}]}).encode()
    bad = _rewrite(bundle, tmp_path / "bad.zip", {"captures/1/record.json": record}, True)
    with zipfile.ZipFile(bad) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["captures"][0]["record_sha256"] = hashlib.sha256(record).hexdigest()
    bad = _rewrite(bad, tmp_path / "bad2.zip", {"manifest.json": json.dumps(manifest).encode()})
    code, output = _cli(store, "verify-bundle", str(bad))
    assert code == 1
    assert "lists 'page.wacz', which is not in the bundle" in output
    assert "over another hash than the capture record" in output


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "captures/../../evil", "link"])
def test_unsafe_members_are_refused_and_nothing_is_written(
    store: Store, bundle: Path, tmp_path: Path, name: str
) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bundle.read_bytes())
    with zipfile.ZipFile(bad, "a") as zf:
        info = zipfile.ZipInfo(name)
        if name == "link":
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd" if name == "link" else "gotcha")
    code, output = _cli(store, "verify-bundle", str(bad))
    assert code == 2
    assert "not a safe bundle" in output and "Traceback" not in output
    assert not (tmp_path.parent / "evil").exists()


def test_not_a_zip_is_one_clear_error(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    code, output = _cli(store, "verify-bundle", str(junk))
    assert code == 2 and "not a readable zip" in output


def test_export_needs_out_or_bundle(store: Store) -> None:
    code, output = _cli(store, "export", store.item_id)
    assert code == 2 and "--bundle" in output


def test_two_capture_files_of_one_name_both_go_in(store: Store, tmp_path: Path) -> None:
    files = [
        {"name": "page.png", "role": "screenshot", "sha256": store.screenshot, "size": 1},
        {"name": "../page.png", "role": "screenshot", "sha256": store.transcript, "size": 1},
    ]
    store.sql(f"UPDATE captures SET files_json = '{json.dumps(files)}'")
    dest = tmp_path / "b.zip"
    assert _cli(store, "export", store.item_id, "--bundle", str(dest))[0] == 0
    with zipfile.ZipFile(dest) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert {"captures/1/files/page.png", "captures/1/files/page-2.png"} <= set(names)
    paths = [f["path"] for f in manifest["captures"][0]["files"]]
    assert paths == ["captures/1/files/page.png", "captures/1/files/page-2.png"]
    assert _cli(store, "verify-bundle", str(dest))[0] == 0
