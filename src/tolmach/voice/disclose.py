"""What says that the voice is AI: the on-screen labels and the file's metadata tags.

The disclosure is made in three places every time, and none can be turned off: spoken at the
start (``track.SPOKEN_DISCLOSURE``), on screen (a large label for the opening seconds and a
small one in the top-right corner for the whole clip; the translation label stays top-left),
and in the file (MP4 ``comment``/``description`` tags and the audio track's name here, a C2PA
manifest in ``provenance``).
"""

from __future__ import annotations

from pathlib import Path

from tolmach.errors import ToolError
from tolmach.pipeline.render import filter_value

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CORNER_LABEL = "AI VOICE"
OPENING_LABEL = "AI-GENERATED ENGLISH VOICE"
OPENING_EXTRA_S = 3.0  # the large label stays this long after the original starts
BOX = "0x8B0000@0.85"  # dark red: not the amber of the translation label
ENGINE_NAMES = {"piper": "Piper", "espeak": "espeak-ng"}


def voice_name(engine: str, voice: str) -> str:
    """ "Piper en_US-joe-medium", "espeak-ng en-us"."""
    return f"{ENGINE_NAMES.get(engine, engine)} {voice}"


def statement(engine: str, voice: str, translation: str = "machine translation") -> str:
    """The one-line disclosure written into the file and voice.json (``translation``: how the
    English was made, or empty for a story written in English)."""
    text = f"AI-generated English voice ({voice_name(engine, voice)})"
    return f"{text}; {translation}" if translation else text


def translation_note(reviewed: bool) -> str:
    """How the English was made: a machine draft, or one a person reviewed throughout."""
    return "machine translation, reviewed by a person" if reviewed else "machine translation"


def on_screen(width: int, height: int, lead_in: float, detail: str) -> str:
    """drawtext filters for both labels, for a frame of ``width`` x ``height``."""
    if not FONT.is_file():
        raise ToolError(
            f"The font {FONT} is missing.",
            "Install it with `apt-get install fonts-dejavu-core` (or run `make setup`).",
        )
    edge = min(width, height)
    margin = round(edge * 0.04)
    small = max(12, round(edge / 28))
    large = max(18, round(min(height / 12, width / (len(OPENING_LABEL) * 0.75))))
    until = lead_in + OPENING_EXTRA_S
    opening = f"enable='lt(t,{until:.2f})'"
    return ",".join(
        [
            _text(CORNER_LABEL, small, f"x=w-tw-{margin + small // 3}", f"y={margin}"),
            _text(OPENING_LABEL, large, "x=(w-tw)/2", f"y=(h/2)-th-{large // 3}", opening),
            _text(detail, max(12, large // 2), "x=(w-tw)/2", f"y=(h/2)+{large // 3}", opening),
        ]
    )


def metadata_args(text: str) -> list[str]:
    """ffmpeg options that write the disclosure into the MP4's tags and audio track name."""
    return [
        "-metadata", f"comment={text}",
        "-metadata", f"description={text}",
        "-metadata:s:a:0", "language=eng",
        "-metadata:s:a:0", "handler_name=AI-generated English voice-over",
    ]  # fmt: skip


def _text(text: str, size: int, x: str, y: str, enable: str = "") -> str:
    pad = max(3, size // 3)
    parts = [
        f"drawtext=fontfile={filter_value(str(FONT))}",
        f"text={filter_value(text)}",
        f"fontsize={size}",
        "fontcolor=white",
        "box=1",
        f"boxcolor={BOX}",
        f"boxborderw={pad}",
        x,
        y,
    ]
    return ":".join([*parts, enable] if enable else parts)
