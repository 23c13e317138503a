"""Archive a captured page: a gzipped WARC of every HTTP exchange, packed into a WACZ.

The WARC opens with a warcinfo record (tool, version, operator); :mod:`tolmach.capture.fetch`
appends the request and response records. The WACZ is made by py-wacz (``wacz create``) from
the WARC and a pages.jsonl naming the captured page, and is checked with ``wacz validate``
before it is kept, so a capture never stores an archive that other tools would refuse.

    with WarcFile(folder / "capture.warc.gz", operator="anna") as warc:
        fetch(client, warc.writer, url, limits)
    wacz = make_wacz(warc.path, folder / "capture.wacz", [Page(url, ts, title)])
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from warcio.warcwriter import WARCWriter

from tolmach import __version__
from tolmach.errors import ToolError

# py-wacz is run in a child process: it prints as it works and imports a lot. One child can run
# two commands in turn ("create ... --then validate ..."), stopping at the first that fails.
_WACZ = """import sys
from wacz.main import main
args = sys.argv[1:]
cut = args.index("--then") if "--then" in args else len(args)
rc = main(args[:cut])
if rc or cut == len(args):
    sys.exit(rc or 0)
print("--then")
sys.exit(main(args[cut + 1 :]))
"""
WACZ_TIMEOUT_S = 600


@dataclass(frozen=True)
class Page:
    """One entry of the WACZ's pages.jsonl: the page that was captured."""

    url: str
    ts: str  # ISO 8601 UTC
    title: str = ""


class WarcFile:
    """A gzipped WARC 1.1 file being written, opened with its warcinfo record."""

    def __init__(self, path: Path, operator: str) -> None:
        self.path = path
        self._fh: BinaryIO = path.open("wb")
        self.writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = {
            "software": f"tolmach/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/",
            "operator": operator,
        }
        record = self.writer.create_warcinfo_record(path.name, info)
        self.writer.write_record(record)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()

    def __enter__(self) -> WarcFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _wacz(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-c", _WACZ, *args],
            capture_output=True,
            text=True,
            timeout=WACZ_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"py-wacz took too long while {what}.", "Retry the capture.") from None


def make_wacz(warc: Path, out: Path, pages: list[Page], title: str = "") -> Path:
    """Pack ``warc`` into the WACZ ``out`` with ``pages``; validate it; return ``out``."""
    pages_file = out.with_name("pages.jsonl")
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Captured pages"}]
    lines += [{"url": p.url, "ts": p.ts, "title": p.title or p.url} for p in pages]
    pages_file.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    args = ["create", "-o", str(out), "-p", str(pages_file)]
    if pages:
        args += ["--url", pages[0].url, "--title", title or pages[0].title or pages[0].url]
    validate = ["--then", "validate", "--file", str(out)]
    proc = _wacz([*args, str(warc), *validate], "packing and validating the WACZ")
    created, _, validated = proc.stdout.partition("--then\n")
    if not validated or not out.is_file() or "Invalid passed page" in created:
        tail = " ".join((created + proc.stderr).strip().splitlines()[-3:])
        raise ToolError(f"py-wacz could not pack the capture: {tail}", "Retry the capture.")
    if proc.returncode != 0:
        last = (validated + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"The WACZ made for this capture does not validate: {last[0]}", "")
    return out
