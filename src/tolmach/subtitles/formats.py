"""Read and write SRT and WebVTT.

``parse`` takes the bytes of a real-world file: any common encoding (BOMs, UTF-16, legacy
Chinese or Cyrillic code pages), any line ending, SRT with or without cue numbers, WebVTT with
headers, NOTE/STYLE/REGION blocks, cue identifiers and settings. Styling (``<i>``, ``<c.x>``,
``<v Name>``, karaoke timestamps, ``{\\an8}``) is stripped: ``Cue.lines`` is the text a viewer
reads, which is what the checker measures. Anything that cannot be read as subtitles raises
``InputError`` naming the file and the first bad line.

``to_srt`` and ``to_vtt`` write plain cues numbered from 1; ``parse`` of either gives the same
cues back (times in whole milliseconds).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath

from tolmach.errors import InputError
from tolmach.models import Cue
from tolmach.subtitles.decode import decode

__all__ = ["format_time", "parse", "to_srt", "to_vtt"]

_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^[ \t\f]*{_TS}[ \t\f]*-->[ \t\f]*{_TS}(?:[ \t\f]+.*)?$")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]*>|<\d[\d:.]*>")
_ASS = re.compile(r"\{\\[^{}]*\}")
_SKIPPED_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")


class _Lines:
    """Numbered lines of a decoded file, cut into blank-line separated blocks."""

    def __init__(self, text: str) -> None:
        self.lines = _NEWLINE.split(text)

    def blocks(self, start: int = 0) -> Iterator[tuple[int, list[str]]]:
        """(index of first line, lines) for each block, from line index ``start``."""
        block: list[str] = []
        first = start
        for n in range(start, len(self.lines)):
            line = self.lines[n]
            if line.strip():
                if not block:
                    first = n
                block.append(line)
            elif block:
                yield first, block
                block = []
        if block:
            yield first, block


def parse(data: bytes, name: str = "") -> list[Cue]:
    """Cues of an SRT or WebVTT file; the format is told by content, else by ``name``'s suffix."""
    label = name or "the subtitle file"
    text = decode(data, label)
    if not text.strip():
        return []
    lines = _Lines(text)
    first = next((line.strip() for line in lines.lines if line.strip()), "")
    suffix = PurePath(name).suffix.lower()
    if _is_vtt_signature(first):
        return _parse_vtt(lines, label)
    if suffix == ".vtt" and not _looks_like_srt(lines):
        raise _error(label, 1, "does not start with the WEBVTT line", "Add 'WEBVTT' as line 1.")
    return _parse_srt(lines, label)


def _is_vtt_signature(line: str) -> bool:
    return line == "WEBVTT" or line.startswith(("WEBVTT ", "WEBVTT\t"))


def _looks_like_srt(lines: _Lines) -> bool:
    """An SRT saved as .vtt: its first timing uses a comma before the milliseconds."""
    timing = next((line for line in lines.lines if "-->" in line), "")
    return bool(re.search(r"\d,\d", timing))


def _error(label: str, line: int, problem: str, hint: str) -> InputError:
    return InputError(f"{label}, line {line}: {problem}.", hint)


def _timing(label: str, number: int, line: str, fmt: str) -> tuple[float, float]:
    match = _TIMING.match(line)
    sep = "," if fmt == "SRT" else "."
    expected = f"'00:01:02{sep}500 --> 00:01:04{sep}000'"
    hint = f"Fix the timing (expected {expected}) or remove that cue, then try again."
    if match is None:
        raise _error(label, number, f"bad cue timing {line.strip()!r}", hint)
    g = match.groups()
    values = []
    for h, m, s, frac in (g[:4], g[4:]):
        if int(m) > 59 or int(s) > 59:
            raise _error(label, number, f"minutes or seconds over 59 in {line.strip()!r}", hint)
        ms = ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))
        values.append(ms / 1000)
    return values[0], values[1]


def _text_lines(raw: Sequence[str], vtt: bool) -> tuple[str, ...]:
    out = []
    for line in raw:
        clean = _ASS.sub("", _TAG.sub("", line))
        if vtt:
            clean = html.unescape(clean)
        clean = " ".join(clean.replace("\ufeff", "").split())
        if clean:
            out.append(clean)
    return tuple(out)


def _split(label: str, first: int, block: list[str], srt: bool) -> list[tuple[int, list[str]]]:
    """Cues run together without a blank line (YouTube's auto captions do this) come apart.

    As in the WebVTT parsing algorithm, a line with ``-->`` ends the cue before it. A timing
    line straight after another one is a broken file, not a cue with no text.
    """
    arrows = [k for k, line in enumerate(block) if "-->" in line]
    cuts = [0]
    for prev, k in itertools.pairwise(arrows):
        if k == prev + 1:
            raise _error(
                label,
                first + k + 1,
                "two timing lines in a row",
                "Remove the duplicated timing line or give the cue its text.",
            )
        # In SRT the cue number sits above the timing line.
        numbered = srt and block[k - 1].strip().isdigit() and k - 1 > prev + 1
        cuts.append(k - 1 if numbered else k)
    cuts.append(len(block))
    return [(first + a, block[a:b]) for a, b in itertools.pairwise(cuts)]


def _blocks(lines: _Lines, start: int, label: str, srt: bool) -> Iterator[tuple[int, list[str]]]:
    for first, block in lines.blocks(start):
        yield from _split(label, first, block, srt)


def _parse_srt(lines: _Lines, label: str) -> list[Cue]:
    cues: list[Cue] = []
    for first, block in _blocks(lines, 0, label, srt=True):
        head = block[0].strip()
        if "-->" in head:
            at = 0
        elif head.isdigit() and len(block) > 1 and "-->" in block[1]:
            at = 1
        elif head.isdigit():
            raise _error(
                label,
                first + 2,
                f"cue {head} has no timing line",
                "Add a timing line like '00:01:02,500 --> 00:01:04,000' under the cue number.",
            )
        else:
            raise _error(
                label,
                first + 1,
                f"expected a cue number or a timing line, found {head[:40]!r}",
                "Check that this is an SRT file and that cues are separated by blank lines.",
            )
        start, end = _timing(label, first + at + 1, block[at], "SRT")
        cues.append(Cue(start, end, _text_lines(block[at + 1 :], vtt=False), len(cues) + 1))
    if not cues:
        raise _error(label, 1, "no subtitle cues found", "Check that this is an SRT file.")
    return cues


def _parse_vtt(lines: _Lines, label: str) -> list[Cue]:
    signature = next(n for n, line in enumerate(lines.lines) if line.strip())
    # The header runs to the first blank line, unless a timing line starts a cue inside it.
    n = signature + 1
    while n < len(lines.lines) and lines.lines[n].strip() and "-->" not in lines.lines[n]:
        n += 1
    cues: list[Cue] = []
    for first, block in _blocks(lines, n, label, srt=False):
        head = block[0].strip()
        if head.split(" ")[0].split("\t")[0] in _SKIPPED_VTT_BLOCKS and "-->" not in head:
            continue
        if not cues and not any("-->" in line for line in block):
            continue  # before the first cue: the rest of a STYLE or REGION block
        if "-->" in head:
            at = 0
        elif len(block) > 1 and "-->" in block[1]:
            at = 1
        else:
            raise _error(
                label,
                first + 1 + min(1, len(block) - 1),
                "expected a cue timing line",
                "Add a timing line like '00:01:02.500 --> 00:01:04.000', "
                "or start the block with NOTE if it is a comment.",
            )
        start, end = _timing(label, first + at + 1, block[at], "WebVTT")
        cues.append(Cue(start, end, _text_lines(block[at + 1 :], vtt=True), len(cues) + 1))
    return cues


def format_time(seconds: float, sep: str = ",") -> str:
    """``HH:MM:SS,mmm`` (or with ``sep`` ``.`` for WebVTT)."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SRT text: cues numbered from 1, a blank line between cues."""
    blocks = [
        f"{n}\n{format_time(c.start)} --> {format_time(c.end)}\n" + "\n".join(c.lines)
        for n, c in enumerate(cues, 1)
    ]
    return "".join(block.rstrip("\n") + "\n\n" for block in blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: the WEBVTT line, then cues numbered from 1, a blank line between cues."""
    blocks = ["WEBVTT\n"]
    for n, c in enumerate(cues, 1):
        text = "\n".join(html.escape(line, quote=False) for line in c.lines)
        timing = f"{format_time(c.start, '.')} --> {format_time(c.end, '.')}"
        blocks.append(f"{n}\n{timing}\n{text}".rstrip("\n") + "\n")
    return "\n".join(blocks)
