"""`tolmach archive check` on real WARC/ARC/WACZ files made by others (shared/data/warc, see
SOURCES.md: warcio's test data, good and deliberately broken; py-wacz's fixtures), and the
zip-slip guard."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolmach.capture.reader import check, refuse_member
from tolmach.cli import app
from tolmach.errors import InputError

WARCIO = "warc/warcio-test-data/test/data"
WACZ = "warc/py-wacz-fixtures/tests/fixtures"

# (file, records, what a broken one's problem says; "" when the file is good)
EXPECTED = [
    (f"{WARCIO}/example.warc", 6, ""),
    (f"{WARCIO}/example.warc.gz", 6, ""),
    (f"{WARCIO}/example.arc", 2, ""),
    (f"{WARCIO}/example.arc.gz", 2, ""),
    (f"{WARCIO}/example-iana.org-chunked.warc", 3, ""),
    (f"{WARCIO}/example-resource.warc.gz", 3, ""),
    (f"{WARCIO}/example-space-in-target-uri.warc.gz", 2, ""),
    (f"{WARCIO}/example-space-in-url.arc", 2, ""),
    (f"{WARCIO}/example-wget-bad-target-uri.warc.gz", 6, ""),
    (f"{WARCIO}/post-test.warc.gz", 6, ""),
    (f"{WARCIO}/example-digest.warc", 4, "payload digest failed"),
    (f"{WARCIO}/example-trunc.warc", 4, "block digest failed"),
    (f"{WARCIO}/example-bad-non-chunked.warc.gz", 1, "gzipped as one stream"),
    (f"{WARCIO}/example-bad.warc.gz.bad", 1, "gzipped as one stream"),
    (f"{WARCIO}/example-wrong-chunks.warc.gz", 1, "not a WARC/ARC record"),
    (f"{WARCIO}/bad.arc", 4, "not a byte count"),
    (f"{WACZ}/example-collection.warc", 4, ""),
    (f"{WACZ}/example-collection-with-lists.warc", 38, ""),
    (f"{WACZ}/example-iana.warc", 118, ""),
    (f"{WACZ}/example-resource.warc.gz", 3, ""),
    (f"{WACZ}/example-warcinfo-metadata.warc", 4, ""),
    (f"{WACZ}/valid_example_1.wacz", 4, ""),  # WACZ 1.0.0: py-wacz 0.6.0 refuses it, we read it
    (f"{WACZ}/valid_example_2.wacz", 4, ""),
    (f"{WACZ}/valid_signed_example_1.wacz", 4, ""),
    (f"{WACZ}/invalid_signed_example_1.wacz", 4, "not a trusted root"),
    (f"{WACZ}/invalid_example_1.wacz", 0, "not in the package"),
]


@pytest.mark.parametrize(
    ("name", "records", "problem"), EXPECTED, ids=[Path(e[0]).name for e in EXPECTED]
)
def test_real_archives(shared_data: Path, name: str, records: int, problem: str) -> None:
    report = check(shared_data / name)
    assert report.records == records
    if problem:
        assert not report.ok
        assert any(problem in p for p in report.problems), report.problems
    else:
        assert report.ok, report.problems
    if report.kind == "wacz" and report.ok:
        assert report.pages == 1


def test_every_shared_archive_is_covered(shared_data: Path) -> None:
    files = {
        str(p.relative_to(shared_data))
        for p in (shared_data / "warc").rglob("*")
        if p.is_file() and p.name not in ("LICENSE", ".gitignore")
    }
    assert files == {e[0] for e in EXPECTED}


def test_cli_archive_check(shared_data: Path) -> None:
    good = shared_data / WACZ / "valid_example_2.wacz"
    bad = shared_data / WARCIO / "example-digest.warc"
    runner = CliRunner()
    res = runner.invoke(app, ["archive", "check", str(good)])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output and "4 records" in res.output and "1 pages" in res.output
    res = runner.invoke(app, ["archive", "check", str(good), str(bad), "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert [d["ok"] for d in data] == [True, False]
    assert "payload digest failed" in data[1]["problems"][0]


@pytest.mark.parametrize(
    "member", ["../evil.warc", "archive/../../evil", "/etc/passwd", "C:/x.warc", "a\\..\\b"]
)
def test_zip_slip_names_are_refused(tmp_path: Path, shared_data: Path, member: str) -> None:
    assert refuse_member(member)
    wacz = tmp_path / "evil.wacz"
    with (
        zipfile.ZipFile(shared_data / WACZ / "valid_example_2.wacz") as src,
        zipfile.ZipFile(wacz, "w") as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(member, b"WARC/1.1\r\n")
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    with pytest.raises(InputError, match="refused"):
        check(wacz)
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    res = CliRunner().invoke(app, ["archive", "check", str(wacz)])
    assert res.exit_code == InputError.exit_code and "refused" in res.output


@pytest.mark.parametrize("member", ["archive/data.warc.gz", "pages/pages.jsonl", "a..b/c"])
def test_ordinary_names_pass(member: str) -> None:
    assert refuse_member(member) == ""


def test_a_changed_wacz_member_is_found(tmp_path: Path, shared_data: Path) -> None:
    wacz = tmp_path / "changed.wacz"
    with (
        zipfile.ZipFile(shared_data / WACZ / "valid_example_2.wacz") as src,
        zipfile.ZipFile(wacz, "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "pages/pages.jsonl":
                data = data.replace(b"example", b"exampl3")
            dst.writestr(info, data)
    report = check(wacz)
    assert not report.ok
    assert any("pages/pages.jsonl" in p and "does not match" in p for p in report.problems)


def test_a_wacz_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.wacz"
    fake.write_bytes(b"PK\x03\x04 but nothing else")
    with pytest.raises(InputError, match="not a readable zip"):
        check(fake)
