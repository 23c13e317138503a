"""Render stage: real ffmpeg renders of small clips, checked with ffprobe and by their pixels.

Burned-in text is checked by comparing grey pixels of a rendered frame with the same frame of
the source (or of the plain background) in the subtitle area and the label corner, so a
subtitles filter that silently draws nothing fails here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import RU_WAV, ffmpeg, ffprobe
from tolmach import media
from tolmach.config import Settings
from tolmach.models import Cue, EnglishSegment, Translation
from tolmach.pipeline import ass, render
from tolmach.pipeline.context import ItemInfo, StageContext, json_bytes
from tolmach.store.blobs import BlobStore

SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nThe shelling started at six in the morning\n"
    "and we had no water and no light for days.\n\n"
)


def gray_frame(path: Path, at: float, size: tuple[int, int], vf: str = "") -> bytes:
    """One frame as 8-bit grey bytes, scaled (and filtered by ``vf``) to ``size``."""
    chain = f"{vf}," if vf else ""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ss", f"{at}",
         "-frames:v", "1", "-vf", f"{chain}scale={size[0]}:{size[1]},format=gray",
         "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert len(proc.stdout) == size[0] * size[1]
    return proc.stdout


def region_diff(a: bytes, b: bytes, width: int, box: tuple[float, float, float, float]) -> float:
    """Mean absolute grey difference inside ``box`` = (x0, y0, x1, y1) as fractions."""
    height = len(a) // width
    x0, x1 = int(box[0] * width), int(box[2] * width)
    y0, y1 = int(box[1] * height), int(box[3] * height)
    total = sum(
        abs(a[y * width + x] - b[y * width + x]) for y in range(y0, y1) for x in range(x0, x1)
    )
    return total / ((x1 - x0) * (y1 - y0))


def moov_before_mdat(path: Path) -> bool:
    """Top-level MP4 boxes: is the index (moov) written before the media data (faststart)?"""
    data = path.read_bytes()
    pos, order = 0, []
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        order.append(data[pos + 4 : pos + 8])
        if size < 8:
            break
        pos += size
    return order.index(b"moov") < order.index(b"mdat")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("render-inputs")
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    speech = ["-i", str(RU_WAV), "-c:a", "aac", "-shortest"]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=6", *speech, *x264,
           str(d / "landscape.mp4"))  # fmt: skip
    # A phone video: stored 1280x720 with a display rotation, shown as 720x1280. (The
    # rotation tag only reaches the container when the stream is copied, not encoded.)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=3", *x264, str(d / "stored.mp4"))
    ffmpeg("-i", str(d / "stored.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90",
           str(d / "portrait.mp4"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=2560x1440:r=25:d=2", *x264, str(d / "big.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=641x359:r=25:d=2", "-c:v", "ffv1",
           str(d / "odd.mkv"))  # fmt: skip
    ffmpeg("-i", str(RU_WAV), "-c:a", "aac", "-b:a", "64k", str(d / "voice.m4a"))
    return {p.stem: p for p in d.iterdir()}


def make_ctx(
    settings: Settings,
    blobs: BlobStore,
    work: Path,
    original: Path,
    srt: str = SRT,
    translation: Translation | None = None,
    progress: list[tuple[float, float]] | None = None,
) -> StageContext:
    facts = media.probe(original)
    sha, _ = blobs.put_file(original)
    kind = "video" if media.has_video(facts) else "audio"
    translation = translation or Translation(
        "ru", (EnglishSegment(0, 1.0, 3.0, "The shelling started"),), "fake", "fake"
    )
    inputs = {
        "original": sha,
        "english.srt": blobs.put_bytes(srt.encode())[0],
        "translation.json": blobs.put_bytes(json_bytes(translation.to_dict()))[0],
    }
    item = ItemInfo("item1", sha, original.suffix.lstrip("."), kind, facts["duration"], facts)
    work.mkdir(parents=True, exist_ok=True)
    seen = progress if progress is not None else []
    return StageContext(item, settings, blobs, inputs, work, lambda d, t: seen.append((d, t)))


def check_mp4(path: Path, size: tuple[int, int], duration: float, audio: bool = True) -> None:
    info = ffprobe(path)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    sound = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert [s["codec_name"] for s in video] == ["h264"]
    assert video[0]["pix_fmt"] == "yuv420p"
    assert (video[0]["width"], video[0]["height"]) == size
    assert not any("rotation" in sd for sd in video[0].get("side_data_list", []))
    assert [s["codec_name"] for s in sound] == (["aac"] if audio else [])
    assert float(info["format"]["duration"]) == pytest.approx(duration, abs=0.25)
    assert moov_before_mdat(path), f"{path.name} is not faststart"


# Unit checks: label rule, ASS text, layout.


def _translation(*reviewed: bool, label: str = "machine translation, unreviewed") -> Translation:
    segs = tuple(EnglishSegment(i, i, i + 1, "x", reviewed=r) for i, r in enumerate(reviewed))
    return Translation("ru", segs, "fake", "fake", label=label)


def test_label_rule() -> None:
    assert render.label_text(_translation(False, True)) == "MACHINE TRANSLATION · UNREVIEWED"
    assert render.label_text(_translation(True, True)) == "Translation reviewed"
    assert render.label_text(_translation()) == "MACHINE TRANSLATION · UNREVIEWED"
    assert render.label_text(None) == "MACHINE TRANSLATION · UNREVIEWED"
    assert render.label_text(_translation(False, label="draft, not checked")) == (
        "DRAFT · NOT CHECKED"
    )


def test_ass_text_cannot_inject_overrides() -> None:
    assert ass.escape(r"a {\an8\fs200} b") == "a \\{\\\u2060an8\\\u2060fs200\\} b"
    assert ass.escape("one\\Ntwo\nthree") == "one\\\u2060Ntwo three"
    assert ass.ass_time(3725.456) == "1:02:05.46"
    text = ass.script(ass.landscape_layout(1280, 720), [Cue(1, 2, ("a", "b"))], "L", 5.0)
    assert "PlayResX: 1280\nPlayResY: 720" in text
    assert "0:00:01.00,0:00:02.00,Sub,,0,0,0,,a\\Nb" in text


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1920, 1080), (1080, 1920)])
def test_42_characters_fit_between_the_margins(size: tuple[int, int]) -> None:
    layout = ass.vertical_layout() if size == (1080, 1920) else ass.landscape_layout(*size)
    measured = 0.36  # bold Noto Sans in libass: width per character per font-size unit
    assert 42 * measured * layout.font_size <= layout.width - 2 * layout.margin_x
    assert layout.font_size >= layout.width / 40  # and no smaller than it needs to be


def test_filter_value_escapes_both_levels() -> None:
    assert render.filter_value("/a b/c'd:e[f],g;h\\i") == (
        "/a b/c\\\\\\'d\\\\:e\\[f\\]\\,g\\;h\\\\\\\\i"
    )


def test_source_geometry_follows_rotation_and_limits() -> None:
    def facts(w: int, h: int, rotation: int = 0) -> dict[str, Any]:
        stream = {"index": 0, "codec_type": "video", "width": w, "height": h}
        if rotation:
            stream["rotation"] = rotation
        return {"duration": 1.0, "streams": [stream]}

    assert render.landscape_size(render.source_of(facts(1280, 720, -90), "video", 1)) == (
        720,
        1280,
    )
    assert render.landscape_size(render.source_of(facts(3840, 2160), "video", 1)) == (1920, 1080)
    assert render.landscape_size(render.source_of(facts(641, 359), "video", 1)) == (640, 358)
    assert render.landscape_size(render.source_of(facts(320, 180), "video", 1)) == (640, 360)
    assert render.source_of(facts(320, 180), "audio", 1).video_index is None
    vertical = {
        size: render.vertical_size(render.source_of(facts(*size), "video", 1))
        for size in [(1280, 720), (720, 1280), (1920, 1080), (1080, 1920), (640, 360)]
    }
    assert vertical == {
        (1280, 720): (720, 1280),
        (720, 1280): (720, 1280),
        (1920, 1080): (1080, 1920),
        (1080, 1920): (1080, 1920),
        (640, 360): (720, 1280),
    }
    assert render.vertical_size(render.source_of(facts(1920, 1080), "audio", 1)) == (720, 1280)


# Real renders.


@pytest.mark.slow
def test_landscape_and_vertical_with_burned_in_text(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    progress: list[tuple[float, float]] = []
    src = inputs["landscape"]
    ctx = make_ctx(settings, blobs, tmp_path / "w", src, progress=progress)

    result = render.run(ctx)

    assert set(result.files) == {"clip.en.mp4", "clip.en.vertical.mp4"}
    landscape, vertical = ctx.work_dir / "clip.en.mp4", ctx.work_dir / "clip.en.vertical.mp4"
    assert result.files["clip.en.mp4"] == landscape
    check_mp4(landscape, (640, 360), ctx.item.duration)
    check_mp4(vertical, (720, 1280), ctx.item.duration)
    assert result.summary["label"] == "MACHINE TRANSLATION · UNREVIEWED"
    assert result.summary["cues"] == 1 and "no_subtitles" not in result.summary
    assert progress[-1] == (ctx.item.duration, ctx.item.duration)

    # Landscape: against the source itself, frame for frame.
    size = (640, 360)
    sub_area, label_corner, quiet = (
        (0.2, 0.7, 0.8, 0.98),
        (0.03, 0.03, 0.4, 0.12),
        (0.5, 0.3, 1, 0.6),
    )
    with_cue = gray_frame(landscape, 2.0, size)
    assert region_diff(with_cue, gray_frame(src, 2.0, size), 640, sub_area) > 25
    assert region_diff(with_cue, gray_frame(src, 2.0, size), 640, label_corner) > 25
    assert region_diff(with_cue, gray_frame(src, 2.0, size), 640, quiet) < 8
    no_cue = gray_frame(landscape, 4.5, size)
    assert region_diff(no_cue, gray_frame(src, 4.5, size), 640, sub_area) < 8
    assert region_diff(no_cue, gray_frame(src, 4.5, size), 640, label_corner) > 25
    # 42-character lines stay clear of the frame's edges.
    assert region_diff(with_cue, gray_frame(src, 2.0, size), 640, (0, 0.7, 0.04, 1)) < 8
    assert region_diff(with_cue, gray_frame(src, 2.0, size), 640, (0.96, 0.7, 1, 1)) < 8

    # Vertical: text on the dark fill below the picture, nothing in the bottom 20% or the sides.
    vsize = (540, 960)
    v_cue, v_none = gray_frame(vertical, 2.0, vsize), gray_frame(vertical, 4.5, vsize)
    band = (0.1, 0.66, 0.9, 0.78)
    assert region_diff(v_cue, v_none, 540, band) > 20
    assert region_diff(v_cue, v_none, 540, (0, 0.8, 1, 1)) < 2
    assert region_diff(v_cue, v_none, 540, (0, 0.67, 0.05, 0.8)) < 2
    assert region_diff(v_cue, v_none, 540, (0.95, 0.67, 1, 0.8)) < 2
    dark = bytes(540 * 960)  # the label shows over the dark fill at any time
    assert region_diff(v_none, dark, 540, (0.09, 0.1, 0.5, 0.13)) > 60
    assert region_diff(v_none, dark, 540, (0, 0, 1, 0.08)) < 40


@pytest.mark.slow
def test_reviewed_label_and_no_speech(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    settings = settings.model_copy(update={"render_vertical": False})
    src = inputs["landscape"]
    ctx = make_ctx(settings, blobs, tmp_path / "w", src, srt="", translation=_translation(True))

    result = render.run(ctx)

    assert set(result.files) == {"clip.en.mp4"}
    assert result.summary["no_subtitles"] is True
    assert result.summary["label"] == "Translation reviewed"
    out = ctx.work_dir / "clip.en.mp4"
    check_mp4(out, (640, 360), ctx.item.duration)
    frame, ref = gray_frame(out, 2.0, (640, 360)), gray_frame(src, 2.0, (640, 360))
    assert region_diff(frame, ref, 640, (0.2, 0.7, 0.8, 0.98)) < 8
    assert region_diff(frame, ref, 640, (0.03, 0.03, 0.3, 0.1)) > 25


@pytest.mark.slow
def test_rotated_phone_video_stays_portrait(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["portrait"])
    assert abs(ctx.item.media["streams"][0]["rotation"]) == 90

    render.run(ctx)

    check_mp4(ctx.work_dir / "clip.en.mp4", (720, 1280), ctx.item.duration, audio=False)
    check_mp4(ctx.work_dir / "clip.en.vertical.mp4", (720, 1280), ctx.item.duration, False)
    # The picture really is turned: the source shown rotated matches the clip outside the text.
    ref = gray_frame(inputs["portrait"], 0.5, (360, 640))
    out = gray_frame(ctx.work_dir / "clip.en.mp4", 0.5, (360, 640))
    assert region_diff(out, ref, 360, (0.5, 0.3, 1, 0.6)) < 10


@pytest.mark.slow
@pytest.mark.parametrize(("name", "size"), [("big", (1920, 1080)), ("odd", (640, 358))])
def test_big_and_odd_sizes(
    settings: Settings,
    blobs: BlobStore,
    tmp_path: Path,
    inputs: dict[str, Path],
    name: str,
    size: tuple[int, int],
) -> None:
    settings = settings.model_copy(update={"render_vertical": False})
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs[name])

    result = render.run(ctx)

    assert result.summary["size"] == f"{size[0]}x{size[1]}"
    check_mp4(ctx.work_dir / "clip.en.mp4", size, ctx.item.duration, audio=False)


@pytest.mark.slow
def test_audio_only_over_dark_background_in_an_awkward_folder(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    # Quotes, colons, brackets, commas and semicolons in the path must survive the filtergraph.
    work = tmp_path / "it's: [a], b; c\\d"
    ctx = make_ctx(settings, blobs, work, inputs["voice"])
    assert ctx.item.kind == "audio"

    result = render.run(ctx)

    assert result.summary["audio_only"] is True
    landscape, vertical = work / "clip.en.mp4", work / "clip.en.vertical.mp4"
    check_mp4(landscape, (1280, 720), ctx.item.duration)
    check_mp4(vertical, (720, 1280), ctx.item.duration)
    size = (640, 360)
    cue, none = gray_frame(landscape, 2.0, size), gray_frame(landscape, 4.5, size)
    assert region_diff(cue, none, 640, (0.1, 0.7, 0.9, 0.98)) > 20
    assert region_diff(none, bytes(640 * 360), 640, (0.03, 0.03, 0.4, 0.12)) > 60
    assert region_diff(none, bytes(640 * 360), 640, (0.5, 0.3, 1, 0.6)) < 30
