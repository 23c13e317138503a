"""The subtitles stage writes four valid files from a transcript and its translation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tolmach.config import Settings
from tolmach.models import EnglishSegment, Segment, Transcript, Translation, Word
from tolmach.pipeline.context import ItemInfo, StageContext, json_bytes
from tolmach.pipeline.subtitles import frame_rate, run
from tolmach.store.blobs import BlobStore
from tolmach.subtitles.check import check_cues
from tolmach.subtitles.formats import parse

NTSC = {"streams": [{"codec_type": "audio"}, {"codec_type": "video", "r_frame_rate": "30000/1001"}]}


def words(start: float, text: str) -> tuple[Word, ...]:
    out, t = [], start
    for w in text.split():
        out.append(Word(round(t, 3), round(t + len(w) / 15, 3), " " + w, 0.9))
        t += (len(w) + 1) / 15
    return tuple(out)


RU = [
    "Нас отправили под Бахмут без оружия, и командир Владимир Петров сказал, что деньги придут.",
    "Нам не платили три месяца.",
]
EN = [
    "We were sent to Bakhmut without weapons, and commander Vladimir Petrov said "
    "the money would come.",
    "We were not paid for three months.",
]


def context(
    tmp_path: Path, settings: Settings, blobs: BlobStore, n: int, media: dict[str, Any]
) -> StageContext:
    segments, english, t = [], [], 0.5
    for k in range(n):
        w = words(t, RU[k])
        segments.append(Segment(k, t, w[-1].end, RU[k], w))
        english.append(EnglishSegment(k, t, w[-1].end, EN[k]))
        t = w[-1].end + 1.0
    transcript = Transcript("ru", 0.98, tuple(segments), duration=t)
    translation = Translation("ru", tuple(english), "fake", "fake-1")
    inputs = {
        "transcript.json": blobs.put_bytes(json_bytes(transcript.to_dict()))[0],
        "translation.json": blobs.put_bytes(json_bytes(translation.to_dict()))[0],
    }
    item = ItemInfo("item1", "0" * 64, "mp4", "video", t, media)
    work = tmp_path / "work"
    work.mkdir()
    return StageContext(item, settings, blobs, inputs, work)


def test_stage_writes_four_checked_files(
    tmp_path: Path, settings: Settings, blobs: BlobStore
) -> None:
    result = run(context(tmp_path, settings, blobs, 2, NTSC))
    assert sorted(result.files) == ["english.srt", "english.vtt", "source.srt", "source.vtt"]
    data = {name: blob for name, blob in result.files.items() if isinstance(blob, bytes)}
    assert len(data) == 4
    english = parse(data["english.srt"], "english.srt")
    assert parse(data["english.vtt"], "english.vtt") == english
    source = parse(data["source.vtt"], "source.vtt")
    assert parse(data["source.srt"], "source.srt") == source
    assert data["english.vtt"].startswith(b"WEBVTT\n\n1\n")
    assert "Владимир Петров" in data["source.srt"].decode("utf-8")
    assert " ".join(c.text for c in english).split() == " ".join(EN).split()
    assert check_cues(english, 30000 / 1001) == []
    assert check_cues(source, 30000 / 1001) == []
    assert result.summary == {
        "source_cues": len(source),
        "english_cues": len(english),
        "english_violations": 0,
        "fps": 30000 / 1001,
    }
    assert english[-1].text.replace("\n", " ") == EN[1]


def test_no_speech_gives_valid_empty_files(
    tmp_path: Path, settings: Settings, blobs: BlobStore
) -> None:
    result = run(context(tmp_path, settings, blobs, 0, {}))
    assert result.files["english.srt"] == b""
    assert result.files["source.srt"] == b""
    assert result.files["english.vtt"] == b"WEBVTT\n"
    assert result.files["source.vtt"] == b"WEBVTT\n"
    assert result.summary["english_cues"] == 0
    assert result.summary["fps"] == 25.0


def test_frame_rate_from_ffprobe_facts() -> None:
    assert frame_rate(NTSC) == 30000 / 1001
    assert frame_rate({"streams": [{"codec_type": "video", "r_frame_rate": "0/0"}]}) == 25.0
    assert frame_rate({"streams": [{"codec_type": "audio", "r_frame_rate": "0/0"}]}) == 25.0
    assert frame_rate({}) == 25.0
    cover = {"codec_type": "video", "attached_pic": 1, "r_frame_rate": "90000/1"}
    assert frame_rate({"streams": [cover]}) == 25.0
