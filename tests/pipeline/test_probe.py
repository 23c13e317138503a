"""Probe stage: 16 kHz mono WAV from real media made with ffmpeg, refusal of damaged media."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import RU_WAV, ffmpeg, ffprobe
from tolmach import media
from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.pipeline import probe
from tolmach.pipeline.context import ItemInfo, StageContext
from tolmach.store.blobs import BlobStore


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("probe-inputs")
    video = ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=6"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    # The speech as 44.1 kHz stereo AAC, so the stage has to downmix and resample.
    ffmpeg(*video, "-i", str(RU_WAV), *x264, "-c:a", "aac", "-ar", "44100", "-ac", "2",
           "-shortest", "-movflags", "+faststart", str(d / "speech.mp4"))  # fmt: skip
    ffmpeg("-i", str(RU_WAV), "-c:a", "aac", "-b:a", "64k", str(d / "voice.m4a"))
    ffmpeg(*video, *x264, str(d / "silent.mp4"))
    whole = (d / "speech.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(whole[: len(whole) * 2 // 5])
    # Garbage in the middle of the media data: the boxes are intact, the frames are not.
    broken = bytearray(whole)
    start = len(broken) // 3
    broken[start : start + len(broken) // 3] = bytes(
        (i * 97 + 13) % 256 for i in range(len(broken) // 3)
    )
    (d / "corrupt.mp4").write_bytes(bytes(broken))
    return {p.stem: p for p in d.iterdir()}


def make_ctx(
    settings: Settings,
    blobs: BlobStore,
    work: Path,
    original: Path,
    facts: dict[str, Any] | None = None,
    progress: list[tuple[float, float]] | None = None,
) -> StageContext:
    """A context for ``original``; ``facts`` stands for what ingest saw (default: probe it)."""
    facts = facts if facts is not None else media.probe(original)
    sha, _ = blobs.put_file(original)
    kind = "video" if media.has_video(facts) else "audio"
    item = ItemInfo("item1", sha, original.suffix.lstrip("."), kind, facts["duration"], facts)
    work.mkdir(parents=True, exist_ok=True)
    seen = progress if progress is not None else []
    return StageContext(
        item, settings, blobs, {"original": sha}, work, lambda d, t: seen.append((d, t))
    )


def test_writes_16k_mono_s16_wav_with_progress(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    progress: list[tuple[float, float]] = []
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["speech"], progress=progress)

    result = probe.run(ctx)

    wav = result.files["audio.wav"]
    assert isinstance(wav, Path) and wav.parent == ctx.work_dir
    info = ffprobe(wav)
    (stream,) = info["streams"]
    assert stream["codec_name"] == "pcm_s16le"
    assert stream["sample_rate"] == "16000"
    assert stream["channels"] == 1
    assert float(info["format"]["duration"]) == pytest.approx(5.67, abs=0.1)
    assert result.summary["audio"] is True
    assert result.summary["audio_seconds"] == pytest.approx(5.67, abs=0.1)
    assert progress, "no progress reported"
    assert progress[-1] == (ctx.item.duration, ctx.item.duration)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_audio_only_m4a(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["voice"])
    assert ctx.item.kind == "audio"

    result = probe.run(ctx)

    assert result.summary["audio_seconds"] == pytest.approx(5.67, abs=0.1)
    assert ffprobe(ctx.work_dir / "audio.wav")["streams"][0]["sample_rate"] == "16000"


def test_no_audio_stream_gives_no_wav(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["silent"])

    result = probe.run(ctx)

    assert result.files == {}
    assert result.summary == {"audio": False}
    assert not (ctx.work_dir / "audio.wav").exists()


def test_truncated_file_is_refused(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    # Facts as ingest recorded them from the whole file; the stored copy is cut short.
    facts = media.probe(inputs["speech"])
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["truncated"], facts=facts)

    with pytest.raises(InputError, match="truncated") as exc:
        probe.run(ctx)
    assert "capture" in exc.value.hint


def test_corrupt_data_midway_is_refused(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["corrupt"])

    with pytest.raises(InputError, match="could not be decoded cleanly") as exc:
        probe.run(ctx)
    assert "re-encode" in exc.value.hint


def test_audio_shorter_than_declared_is_refused(
    settings: Settings, blobs: BlobStore, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    facts = media.probe(inputs["voice"])
    facts["duration"] = 60.0  # what the capture said; only 5.7 s can be decoded
    ctx = make_ctx(settings, blobs, tmp_path / "w", inputs["voice"], facts=facts)

    with pytest.raises(InputError, match=r"only 5\.\d s of audio"):
        probe.run(ctx)


def test_progress_lines_are_parsed() -> None:
    assert media.parse_progress_line("out_time_us=1500000\n") == 1.5
    assert media.parse_progress_line("out_time_us=N/A") is None
    assert media.parse_progress_line("out_time_ms=1500000") is None
    assert media.parse_progress_line("progress=end") is None
