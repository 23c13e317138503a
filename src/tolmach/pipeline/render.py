"""Render stage: the original with burned-in English subtitles and a translation label.

Writes ``clip.en.mp4`` in the source's own frame (rotation applied, even sizes, at most 1920 on
the long side) and, when ``render_vertical`` is set, ``clip.en.vertical.mp4`` at 1080x1920
(720x1280 for sources of 720p or less, and audio-only items): the source fitted to the width
and centred on a dark fill, with subtitles kept out of the bottom ~22% and top ~10% that phone
apps cover. Audio-only items (a voice message) are rendered over a
plain dark background for the audio's length. Both outputs are H.264/AAC with the original
audio, ``+faststart`` for streaming.

Both outputs come from one ffmpeg run: the source is decoded once and ``split`` into the two
encodes. On a 60 s 720p clip and 2 cores that took 5-12% less CPU than two runs at every
preset; the x264 encodes are most of the cost, so ``render_preset`` is the knob for speed.

A label ("MACHINE TRANSLATION · UNREVIEWED", or "Translation reviewed" once every segment is
reviewed) stays in the top-left corner throughout, so a clip cut loose from tolmach still says
what it is. An item with no speech (empty ``english.srt``) is still rendered, label only, with
``no_subtitles`` in the summary: a translator working down a list expects a clip for every
item, and a clip that visibly has no subtitles says "nothing was said" more plainly than a
missing file. Media longer than ``render_max_s`` (an hour by default) get no clip: encoding
takes about half the media's length on 2 cores, and a clip of hours is not one anybody posts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from tolmach.media import has_audio, has_video, run_ffmpeg_progress, safe_path
from tolmach.models import Cue, Translation
from tolmach.pipeline import ass
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.subtitles.formats import parse

log = logging.getLogger(__name__)

MAX_LONG_SIDE = 1920
MIN_LONG_SIDE = 640  # smaller sources are scaled up so the text is not drawn blurry
AUDIO_ONLY_SIZE = (1280, 720)
VERTICAL_SIZE = (1080, 1920)
VERTICAL_SMALL = (720, 1280)  # for sources of 720p or less: no detail lost, half the pixels
BACKGROUND = "0x15191d"
DEFAULT_LABEL = "machine translation, unreviewed"


@dataclass(frozen=True)
class Source:
    """What the render needs to know of the original."""

    video_index: int | None  # ffmpeg stream index of the picture, None when audio only
    width: int  # displayed size: after rotation
    height: int
    audio: bool
    duration: float


def label_text(translation: Translation | None) -> str:
    """The corner label: reviewed only when every segment is; otherwise the stored label."""
    if translation is None:
        return _label_case(DEFAULT_LABEL)
    if translation.segments and all(s.reviewed for s in translation.segments):
        return ass.LABEL_REVIEWED
    return _label_case(translation.label or DEFAULT_LABEL)


def _label_case(raw: str) -> str:
    """Upper case, commas to middle dots: "machine translation, unreviewed" -> "... · ..."."""
    return " · ".join(part.strip() for part in raw.split(",") if part.strip()).upper()


def run(ctx: StageContext) -> StageResult:
    """Render ``clip.en.mp4`` and, if asked, ``clip.en.vertical.mp4``."""
    prefix = f"[{ctx.item.id}:render]"
    cues = _cues(ctx)
    translation = (
        Translation.from_dict(ctx.read_json("translation.json"))
        if ctx.has("translation.json")
        else None
    )
    label = label_text(translation)
    src = source_of(ctx.item.media, ctx.item.kind, ctx.item.duration)
    if src.duration > ctx.settings.render_max_s:
        log.info("%s skipped: %.0f s is longer than render_max_s", prefix, src.duration)
        skipped = (
            f"no clip rendered: {src.duration:.0f} s is longer than render_max_s "
            f"({ctx.settings.render_max_s:.0f} s); the subtitle files are made. "
            "Raise render_max_s to render it anyway."
        )
        return StageResult(files={}, engine="ffmpeg", summary={"skipped": skipped})
    outputs = {"clip.en.mp4": ass.landscape_layout(*landscape_size(src))}
    if ctx.settings.render_vertical:
        outputs["clip.en.vertical.mp4"] = ass.vertical_layout(*vertical_size(src))

    graph: list[str] = []
    args: list[str] = []
    if src.video_index is not None:
        args += ["-i", safe_path(ctx.path("original"))]
        graph.append(f"[0:{src.video_index}]split={len(outputs)}" + _labels("in", len(outputs)))
    elif src.audio:
        args += ["-i", safe_path(ctx.path("original"))]
    out_args: list[str] = []
    for n, (name, layout) in enumerate(outputs.items()):
        script = ass.write(ctx.work_dir / f"subs{n}.ass", layout, cues, label, src.duration)
        subs = f"ass=filename={filter_value(safe_path(script))}"
        graph.append(_picture(src, layout, f"[in{n}]") + f",{subs},format=yuv420p[v{n}]")
        out_args += ["-map", f"[v{n}]"]
        if src.audio:
            out_args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", "160k"]
        out_args += [
            "-c:v", "libx264",
            "-preset", ctx.settings.render_preset,
            "-crf", str(ctx.settings.render_crf),
            "-pix_fmt", "yuv420p",
            "-threads", "0",
            "-movflags", "+faststart",
            *(["-shortest"] if src.video_index is None else []),  # the fill has no end
            safe_path(ctx.work_dir / name),
        ]  # fmt: skip
    args += ["-filter_complex", ";".join(graph), *out_args]
    log.info("%s rendering %s (%d cues, label %r)", prefix, ", ".join(outputs), len(cues), label)
    errors = run_ffmpeg_progress(
        args,
        "rendering the subtitled clip",
        src.duration,
        ctx.on_progress,
        timeout=600 + 20 * src.duration,
    )
    if errors:  # probe refuses damaged audio; damaged pictures are drawn as ffmpeg can
        log.warning("%s ffmpeg reported %s while rendering", prefix, errors[0])
    summary: dict[str, Any] = {
        "outputs": list(outputs),
        "size": f"{outputs['clip.en.mp4'].width}x{outputs['clip.en.mp4'].height}",
        "cues": len(cues),
        "label": label,
        "audio_only": src.video_index is None,
    }
    if not cues:
        summary["no_subtitles"] = True
    return StageResult(
        files={name: ctx.work_dir / name for name in outputs}, engine="ffmpeg", summary=summary
    )


def source_of(media: dict[str, Any], kind: str, duration: float) -> Source:
    """The picture stream, its displayed size and the duration, from the capture's facts."""
    video = None
    if kind != "audio" and has_video(media):
        video = next(
            s for s in media["streams"] if s["codec_type"] == "video" and not s.get("attached_pic")
        )
    total = float(duration or media.get("duration") or 0.0)
    if video is None:
        return Source(None, *AUDIO_ONLY_SIZE, audio=has_audio(media), duration=total)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if round(float(video.get("rotation") or 0)) % 180 == 90:  # ffmpeg turns the picture
        width, height = height, width
    return Source(int(video["index"]), width, height, has_audio(media), total)


def landscape_size(src: Source) -> tuple[int, int]:
    """The clip's frame: the source's own aspect, long side within 640..1920, even sizes."""
    if src.video_index is None or src.width <= 0 or src.height <= 0:
        return AUDIO_ONLY_SIZE
    long_side = max(src.width, src.height)
    scale = min(MAX_LONG_SIDE / long_side, max(1.0, MIN_LONG_SIDE / long_side))
    return _even(src.width * scale), _even(src.height * scale)


def vertical_size(src: Source) -> tuple[int, int]:
    """The 9:16 frame: 720x1280 when the source's short side is 720 or less, else 1080x1920.

    A 720p picture fitted into the 9:16 frame is shown 720 (or 1080) pixels wide either way, so
    the larger frame adds no detail, only 2.25x the pixels to encode.
    """
    if src.video_index is not None and min(src.width, src.height) > VERTICAL_SMALL[0]:
        return VERTICAL_SIZE
    return VERTICAL_SMALL


def _picture(src: Source, layout: ass.Layout, pad: str) -> str:
    """Filters from the decoded source (or nothing) to the output frame, before the text."""
    w, h = layout.width, layout.height
    if src.video_index is None:
        length = f":d={src.duration:.3f}" if src.duration > 0 else ""
        return f"color=c={BACKGROUND}:s={w}x{h}:r=25{length}"
    if (w, h) == landscape_size(src):
        return f"{pad}scale={w}:{h},setsar=1"
    # Vertical: the picture fitted to the frame and centred on a dark fill. A blurred copy of
    # the picture as fill looked nicer but tripled the filter time (a 2-megapixel upscale and
    # overlay per frame); the dark bands also give the subtitles a calm background.
    scale = min(w / src.width, h / src.height)
    fw, fh = _even(src.width * scale), _even(src.height * scale)
    return f"{pad}scale={fw}:{fh},setsar=1,pad={w}:{h}:-1:-1:color={BACKGROUND}"


def filter_value(value: str) -> str:
    """Escape an option value for a filtergraph: once for the option, once for the graph."""
    option = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option)


def _cues(ctx: StageContext) -> list[Cue]:
    data = ctx.read_bytes("english.srt") if ctx.has("english.srt") else b""
    return parse(data, "english.srt") if data.strip() else []


def _labels(prefix: str, count: int) -> str:
    return "".join(f"[{prefix}{n}]" for n in range(count))


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
