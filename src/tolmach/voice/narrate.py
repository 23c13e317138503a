"""A written story read aloud into an ``.m4a`` with one chapter per paragraph.

For a publication's audio player: the story (Markdown or plain text) is split into
paragraphs at blank lines; Markdown marks (headings, emphasis, links, images, code fences)
are taken out and a heading is a paragraph of its own. The disclosure ("This English voice is
AI-generated.") is spoken first, inside the first chapter, so that skipping to any chapter
still starts after it was heard once and the file never starts without it. The result is
AAC at ``voice_loudness`` LUFS with chapters and the disclosure in its tags, and a signed
C2PA manifest when a key is set. The ``.m4a`` is written whole or not at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tolmach.config import Settings
from tolmach.engines.tts import load_tts
from tolmach.errors import InputError, NotFoundError
from tolmach.media import run_ffmpeg_progress, safe_path
from tolmach.voice import audio, disclose, provenance
from tolmach.voice.track import Clock, opening, utterances

PARAGRAPH_PAUSE_S = 0.7
AAC_WITH_CHAPTERS = (
    *("-map_metadata", "1", "-map_chapters", "1"),
    *("-c:a", "aac", "-aac_coder", "fast", "-b:a", "96k"),  # speech: the fast coder is enough
)
TITLE_WORDS = 8


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Narration:
    path: Path
    duration: float
    chapters: tuple[Chapter, ...]
    engine: str
    voice: str
    signed: provenance.Signed
    timings_s: dict[str, float]


def paragraphs(text: str) -> list[str]:
    """The story's paragraphs as plain text, Markdown marks removed."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)  # code is not read aloud
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their words
    text = re.sub(r"^\s{0,3}(#{1,6}\s+.*)$", r"\n\1\n", text, flags=re.MULTILINE)
    found = []
    for block in re.split(r"\n\s*\n", text):
        plain = re.sub(r"^\s{0,3}(?:#{1,6}|>|[-*+]|\d+\.)\s+", "", block, flags=re.MULTILINE)
        plain = re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", plain)
        plain = " ".join(plain.split())
        if re.search(r"\w", plain):
            found.append(plain)
    return found


def read_story(path: Path) -> list[str]:
    """The paragraphs of the story file; a clear error for a missing or empty one."""
    if not path.is_file():
        raise NotFoundError(f"The story {path} does not exist.", "Check the path.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text.", "Save the story as UTF-8.") from None
    found = paragraphs(text)
    if not found:
        raise InputError(f"The story {path} has no text to read.", "Give a story with words.")
    return found


def narrate(
    story: Path,
    out: Path,
    settings: Settings,
    work: Path,
    on_progress: Callable[[float, float], None] = lambda done, total: None,
) -> Narration:
    """Read ``story`` aloud into ``out`` (an .m4a)."""
    parts = read_story(story)
    signer = provenance.check_signer(settings)
    clock = Clock()
    engine = load_tts(settings)
    rate = engine.sample_rate
    gap = np.zeros(int(PARAGRAPH_PAUSE_S * rate), dtype=np.float32)
    pieces = [opening(engine)[0], gap]
    chapters = []
    at = 0.0
    said = utterances(engine, parts, on_progress=on_progress)
    for part, (_, speech) in zip(parts, said, strict=True):
        pieces += [speech, gap]
        end = sum(len(p) for p in pieces) / rate
        chapters.append(Chapter(_title(part), at, end))
        at = end
    raw = audio.write_wav(work / "narration-raw.wav", np.concatenate(pieces), rate)
    clock.lap("speech")
    even = work / "narration-even.wav"
    even_lufs = audio.compress(raw, even, rate)  # at the voice's own rate: nothing above it
    statement = disclose.statement(engine.engine, engine.voice, translation="")
    meta = _ffmetadata(work / "chapters.txt", story.stem, statement, chapters)
    loud = work / "narration.wav"
    audio.normalise(even, loud, settings.voice_loudness, 1, even_lufs, rate)
    clock.lap("loudness")
    encoded = work / "narration.m4a"
    run_ffmpeg_progress(
        [
            *["-i", safe_path(loud), "-i", safe_path(meta), "-map", "0:a", *AAC_WITH_CHAPTERS],
            *["-movflags", "+faststart", safe_path(encoded)],
        ],
        "encoding the narration",
        at,
        lambda d, t: None,
    )
    clock.lap("encode")
    signed = provenance.Signed(out, False, warning=provenance.UNSIGNED)
    out.parent.mkdir(parents=True, exist_ok=True)
    if signer is not None:
        definition = provenance.narration_manifest(
            story, out.name, disclose.voice_name(engine.engine, engine.voice)
        )
        provenance.sign(definition, signer, encoded, out, "audio/mp4")
        signed = provenance.Signed(out, True, signer.name)
    else:
        _copy_whole(encoded, out)
    clock.lap("write")
    return Narration(out, at, tuple(chapters), engine.engine, engine.voice, signed, clock.laps)


def _title(paragraph: str) -> str:
    words = paragraph.split()
    if len(words) <= TITLE_WORDS:
        return paragraph
    return " ".join(words[:TITLE_WORDS]).rstrip(".,;:!?") + "…"


def _ffmetadata(path: Path, title: str, statement: str, chapters: list[Chapter]) -> Path:
    lines = [
        ";FFMETADATA1",
        f"title={_escape(title)}",
        f"comment={_escape(statement)}",
        f"description={_escape(statement)}",
    ]
    for c in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(c.start * 1000)}"]
        lines += [f"END={round(c.end * 1000)}", f"title={_escape(c.title)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _escape(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def _copy_whole(source: Path, dest: Path) -> None:
    """Copy beside ``dest`` first, then rename: a reader never sees half a file."""
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        partial.write_bytes(source.read_bytes())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
