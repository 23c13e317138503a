"""ASS subtitle scripts for the render stage: burned-in English cues and the translation label.

One script per output, with ``PlayResX``/``PlayResY`` equal to the output frame so sizes below
are real pixels. The subtitle font size is the largest at which a 42-character line (the usual
broadcast limit) fits the width between the side margins, capped by the frame height; the label
is a smaller box in the top-left corner shown for the whole clip.

Sizes come from measuring libass with bold Noto Sans: a line of English is about 0.36 font-size
units wide per character, an upper-case line about 0.45.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tolmach.models import Cue

FONT = "Noto Sans"  # fontconfig falls back to DejaVu Sans for anything it lacks
LINE_CHARS = 42
CHAR_WIDTH = 0.38  # measured 0.36, plus room for wide words
LABEL_CHAR_WIDTH = 0.46  # upper case; measured 0.45
LABEL_REVIEWED = "Translation reviewed"

# Colours are &HAABBGGRR; alpha 00 is opaque.
WHITE = "&H00FFFFFF"
BLACK = "&H00000000"
SUB_BOX = "&H40000000"  # black box, 75% opaque
WARN_BOX = "&H0000B4FF"  # amber, for an unreviewed machine translation
CALM_BOX = "&H40303030"  # dark grey, for a reviewed translation


@dataclass(frozen=True)
class Layout:
    """Where text goes in one output frame (all in output pixels)."""

    width: int
    height: int
    margin_x: int  # left and right margin of the subtitles
    margin_bottom: int  # from the bottom edge to the last subtitle line
    label_x: int
    label_y: int

    @property
    def font_size(self) -> int:
        fit_width = (self.width - 2 * self.margin_x) / (LINE_CHARS * CHAR_WIDTH)
        return max(12, round(min(fit_width, self.height / 11)))

    def label_size(self, label: str) -> int:
        fit_width = 0.6 * self.width / (max(len(label), 20) * LABEL_CHAR_WIDTH)
        return max(10, round(min(0.7 * self.font_size, fit_width)))


def landscape_layout(width: int, height: int) -> Layout:
    """The layout for the clip in the source's own frame (landscape or portrait)."""
    edge = min(width, height)
    return Layout(
        width=width,
        height=height,
        margin_x=round(width * 0.08),
        margin_bottom=round(height * 0.06),
        label_x=round(edge * 0.04),
        label_y=round(edge * 0.04),
    )


def vertical_layout(width: int = 1080, height: int = 1920) -> Layout:
    """The 9:16 layout: text kept out of the top ~10% and bottom ~22% used by platform UI."""
    return Layout(
        width=width,
        height=height,
        margin_x=round(width * 0.09),
        margin_bottom=round(height * 0.22),
        label_x=round(width * 0.09),
        label_y=round(height * 0.10),
    )


def script(layout: Layout, cues: Iterable[Cue], label: str, duration: float) -> str:
    """The whole ASS script for one output."""
    size = layout.font_size
    lsize = layout.label_size(label)
    label_box = CALM_BOX if label == LABEL_REVIEWED else WARN_BOX
    label_text = WHITE if label == LABEL_REVIEWED else BLACK
    pad = max(2, round(size * 0.14))
    lpad = max(2, round(lsize * 0.22))
    fields = (
        "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
        "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
    )
    m = layout
    # BorderStyle 3 draws an opaque box in OutlineColour, Outline pixels around the text.
    sub_style = (
        f"Style: Sub,{FONT},{size},{WHITE},{WHITE},{SUB_BOX},{SUB_BOX},-1,0,0,0,100,100,0,0,"
        f"3,{pad},0,2,{m.margin_x},{m.margin_x},{m.margin_bottom},1"
    )
    label_style = (
        f"Style: Label,{FONT},{lsize},{label_text},{label_text},{label_box},{label_box},"
        f"-1,0,0,0,100,100,0,0,3,{lpad},0,7,{m.label_x + lpad},0,{m.label_y + lpad},1"
    )
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {m.width}",
        f"PlayResY: {m.height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        f"Format: {fields}",
        sub_style,
        label_style,
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        f"Dialogue: 1,{ass_time(0)},{ass_time(duration + 1)},Label,,0,0,0,,{escape(label)}",
    ]
    for cue in cues:
        text = r"\N".join(escape(line) for line in cue.lines if line.strip())
        if text and cue.end > cue.start:
            lines.append(
                f"Dialogue: 0,{ass_time(cue.start)},{ass_time(cue.end)},Sub,,0,0,0,,{text}"
            )
    return "\n".join(lines) + "\n"


def write(path: Path, layout: Layout, cues: Iterable[Cue], label: str, duration: float) -> Path:
    path.write_text(script(layout, cues, label, duration), encoding="utf-8")
    return path


def ass_time(seconds: float) -> str:
    """``h:mm:ss.cc`` as ASS wants it."""
    cs = max(0, round(seconds * 100))
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def escape(text: str) -> str:
    """Text shown literally: no override blocks, no ``\\N`` or ``\\h`` escapes from the input."""
    text = " ".join(text.split())  # a line break inside a line, tabs
    # A backslash before N, n or h would be read as an escape; a word joiner after it stops that.
    text = text.replace("\\", "\\\u2060")
    return text.replace("{", "\\{").replace("}", "\\}")
