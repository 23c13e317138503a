"""Check a web archive: a WARC or ARC file (plain or gzipped) or a WACZ package.

Every record is read to its end, so digests are recomputed (``WARC-Block-Digest``,
``WARC-Payload-Digest``) and truncation shows. A WACZ is opened only after its member names are
checked (no absolute paths, no ``..``: a hostile package must not write or read outside its
folder); then every resource listed in datapackage.json is re-hashed, the WARCs inside are
checked the same way and the pages counted. A signed WACZ's certificate chain is compared with
this machine's trusted roots (names and keys; the signature itself is not verified here).

    report = check(Path("capture.wacz"))
    report.ok, report.records, report.pages, report.problems
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from tolmach.errors import InputError, NotFoundError

CHUNK = 1024 * 1024


@dataclass
class Report:
    """What a check found. ``problems`` make the archive broken; ``notes`` are worth knowing."""

    path: Path
    kind: str  # warc, arc, wacz
    records: int = 0
    types: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    files: int = 0  # WACZ members
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(path: Path) -> Report:
    """Check the archive at ``path``: a .wacz is a package, anything else a WARC or ARC."""
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist or is not a file.", "Check the path.")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"PK\x03\x04") or path.suffix.lower() == ".wacz":
        from tolmach.capture.wacz_check import check_wacz  # a package is checked there

        return check_wacz(path)
    report = Report(path, "warc")
    with path.open("rb") as fh:
        check_records(fh, report, path.name)
    return report


def check_records(fh: IO[bytes], report: Report, name: str) -> None:
    """Read every record of a WARC/ARC stream into ``report`` (counts, digests, damage)."""
    err = io.StringIO()
    count = 0
    try:
        with contextlib.redirect_stderr(err):
            iterator = ArchiveIterator(fh, check_digests=True)
            for record in iterator:
                count += 1
                if record.format.startswith("arc"):
                    report.kind = "arc"
                    _check_arc_length(record, count, name, report)
                stream = record.content_stream()
                while stream.read(CHUNK):
                    pass
                checker = record.digest_checker
                if checker.passed is False:
                    uri = record.rec_headers.get_header("WARC-Target-URI") or "-"
                    report.problems.append(
                        f"{name}: record {count} ({record.rec_type} {uri}): "
                        + "; ".join(checker.problems)
                        + " (its bytes were changed or cut short)"
                    )
                report.types[record.rec_type or "?"] += 1
            if iterator.err_count:
                report.problems.append(
                    f"{name}: {iterator.err_count} record(s) not followed by the blank lines "
                    "that end a record: a Content-Length is wrong or the file was cut short"
                )
    except ArchiveLoadFailed as exc:
        report.problems.append(_load_failed(name, str(exc), count))
    except (zlib.error, EOFError, gzip.BadGzipFile, OSError) as exc:
        report.problems.append(
            f"{name}: the compressed data is damaged after record {count} ({exc}); "
            "the file is truncated or corrupt"
        )
    report.records += count
    if count == 0 and not report.problems:
        report.problems.append(f"{name}: no WARC or ARC records in it")


def _check_arc_length(record: Any, n: int, name: str, report: Report) -> None:
    length = record.rec_headers.get_header("length") or ""
    if not length.isdigit():
        report.problems.append(
            f"{name}: ARC record {n} declares the length {length!r}, not a byte count"
        )


def _load_failed(name: str, message: str, count: int) -> str:
    text = " ".join(message.split())
    if "non-chunked gzip" in text:
        return (
            f"{name}: gzipped as one stream instead of one gzip member per record, so it "
            f"cannot be read record by record (stopped after record {count}); the data may "
            "be intact: `warcio recompress` rewrites it properly"
        )
    first = text.split("first line:")[-1].strip()[:60] if "first line" in text else text[:120]
    return (
        f"{name}: after record {count} the data is not a WARC/ARC record ({first}); "
        "a length or chunk is wrong or the file is damaged"
    )


def refuse_member(name: str) -> str:
    """Why a zip member name is unsafe, or "" when it is fine (zip-slip guard)."""
    if not name or "\x00" in name:
        return "an empty or NUL-containing name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "a '..' that points outside the package"
    return ""


def guard_members(names: list[str], path: Path) -> None:
    """InputError when any member name of the package at ``path`` is unsafe."""
    for name in names:
        why = refuse_member(name)
        if why:
            raise InputError(
                f"{path.name} is refused: its member {name!r} has {why}.",
                "Do not unpack it; the package may be crafted to overwrite files.",
            )
