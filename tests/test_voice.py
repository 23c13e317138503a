"""The voice stage with the real Piper and espeak-ng engines, ffmpeg and c2pa.

The main clip has a steady 13 kHz tone as its original sound, so that the ducking can be
measured in the output: the tone's level where the voice speaks against where it does not.
(Piper's voice, at 22.05 kHz, has nothing above 11 kHz to blur the measure.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from c2pa_certs import Chain, make_chain, read_manifest
from conftest import RU_WAV, ffmpeg, ffprobe
from tolmach import media
from tolmach.config import Settings
from tolmach.errors import ConfigError, ModelError
from tolmach.models import EnglishSegment, Translation
from tolmach.pipeline import voice
from tolmach.pipeline.context import ItemInfo, StageContext, StageResult, json_bytes
from tolmach.store.blobs import BlobStore
from tolmach.voice import audio, provenance
from voice_helpers import decode, loudness

TONE_HZ = 13_000
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SEGMENTS = (
    (0.5, 3.0, "The 96th regiment has no water."),
    (3.2, 3.8, "We were sent to the front without food and without orders."),
    (7.5, 8.0, "Nobody from the command has answered us for three weeks now."),
)
SRT = "1\n00:00:00,500 --> 00:00:03,000\nThe 96th regiment has no water.\n\n"


def make_ctx(
    tmp: Path,
    original: Path,
    segments: tuple[tuple[float, float, str], ...],
    reviewed: bool = False,
    **settings: Any,
) -> StageContext:
    s = Settings(data_dir=tmp / "data", voice_in_run=True, render_preset="ultrafast", **settings)
    blobs = BlobStore(s.blob_dir)
    facts = media.probe(original)
    sha, _ = blobs.put_file(original)
    segs = tuple(
        EnglishSegment(n, a, b, text, reviewed=reviewed) for n, (a, b, text) in enumerate(segments)
    )
    translation = Translation("ru", segs, "llama", "gemma3-270m")
    inputs = {
        "original": sha,
        "english.srt": blobs.put_bytes(SRT.encode() if segments else b"")[0],
        "translation.json": blobs.put_bytes(json_bytes(translation.to_dict()))[0],
    }
    kind = "video" if media.has_video(facts) else "audio"
    item = ItemInfo("item1", sha, original.suffix[1:], kind, facts["duration"], facts)
    (tmp / "work").mkdir(parents=True, exist_ok=True)
    return StageContext(item, s, blobs, inputs, tmp / "work")


def tone_video(path: Path, seconds: float = 9.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={seconds}",
           "-f", "lavfi", "-i", f"sine=f={TONE_HZ}:r=48000:d={seconds},volume=0.1",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-b:a", "192k", str(path))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return make_chain(tmp_path_factory.mktemp("c2pa"))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, chain: Chain) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("voice")
    original = tone_video(tmp / "original.mp4")
    ctx = make_ctx(tmp, original, SEGMENTS, c2pa_cert=chain.chain, c2pa_key=chain.key)
    result = voice.run(ctx)
    return {"result": result, "original": original, "tmp": tmp}


def files(result: StageResult) -> dict[str, Path]:
    return {k: v for k, v in result.files.items() if isinstance(v, Path)}


def report(result: StageResult) -> dict[str, Any]:
    data = result.files["voice.json"]
    assert isinstance(data, bytes)
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def tone_level(samples: np.ndarray, a: float, b: float) -> float:
    """Amplitude of the tone between a and b seconds (48 kHz mono)."""
    part = samples[int(a * audio.RATE) : int(b * audio.RATE)]
    t = np.arange(len(part)) / audio.RATE
    return float(
        np.hypot(part @ np.sin(2 * np.pi * TONE_HZ * t), part @ np.cos(2 * np.pi * TONE_HZ * t))
    )


def gray(path: Path, at: float) -> np.ndarray:
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
         "-vf", "scale=640:360,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(proc.stdout, dtype=np.uint8).reshape(360, 640).astype(float)


@pytest.mark.slow
def test_fit_report_follows_the_overflow_rule(made: dict[str, Any]) -> None:
    data = report(made["result"])
    segs = data["segments"]
    assert segs[0]["spoken"] == "The ninety-sixth regiment has no water."
    assert segs[0]["outcome"] in ("fits", "sped") and not segs[0]["flagged"]
    assert segs[1]["outcome"] == "overran" and segs[1]["flagged"]
    assert segs[1]["tempo"] == 1.4 and segs[1]["start"] + segs[1]["length"] <= 7.5
    assert segs[2]["outcome"] == "truncated" and segs[2]["flagged"]
    assert segs[2]["length"] == pytest.approx(9.0 - 7.5, abs=0.05)
    assert data["fit_share"] == pytest.approx(1 / 3, abs=0.001)
    assert made["result"].summary["flagged"] == [1, 2]


@pytest.mark.slow
def test_clip_is_the_english_clip_with_the_voice_at_minus_16_lufs(made: dict[str, Any]) -> None:
    clip, track = files(made["result"])["english-voice.mp4"], files(made["result"])["voiceover.wav"]
    lead = report(made["result"])["lead_in_s"]
    assert 1.5 < lead < 4.0
    info = ffprobe(clip)
    assert float(info["format"]["duration"]) == pytest.approx(9.0 + lead, abs=0.15)
    assert {s["codec_type"]: s["codec_name"] for s in info["streams"]} == {
        "video": "h264",
        "audio": "aac",
    }
    assert loudness(clip) == pytest.approx(-16.0, abs=1.0)
    assert loudness(track) == pytest.approx(-16.0, abs=1.0)
    disclosure = "AI-generated English voice (Piper en_US-joe-medium); machine translation"
    assert info["format"]["tags"]["comment"] == disclosure
    assert info["format"]["tags"]["description"] == disclosure
    sound = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert sound["tags"]["handler_name"] == "AI-generated English voice-over"


@pytest.mark.slow
def test_original_is_ducked_under_the_voice_not_removed(made: dict[str, Any]) -> None:
    data = report(made["result"])
    lead, first, second = data["lead_in_s"], data["segments"][0], data["segments"][1]
    mixed = decode(files(made["result"])["english-voice.mp4"])
    voiced = tone_level(mixed, lead + first["start"] + 0.4, lead + first["start"] + 1.2)
    quiet_from = lead + second["start"] + second["length"] + 0.4
    unvoiced = tone_level(mixed, quiet_from, quiet_from + 0.8)
    ratio_db = 20 * np.log10(voiced / unvoiced)
    assert ratio_db == pytest.approx(audio.DUCK_DB, abs=1.0)
    assert voiced > 0  # still there


@pytest.mark.slow
def test_disclosure_on_screen(made: dict[str, Any]) -> None:
    clip, original = files(made["result"])["english-voice.mp4"], made["original"]
    lead = report(made["result"])["lead_in_s"]
    opening, source_first = gray(clip, 1.0), gray(original, 0.0)
    middle = (slice(130, 230), slice(80, 560))
    assert np.abs(opening[middle] - source_first[middle]).mean() > 15
    later, source_later = gray(clip, lead + 5.0), gray(original, 5.0)
    assert np.abs(later[middle] - source_later[middle]).mean() < 8  # the large label has gone
    corner = (slice(10, 40), slice(540, 630))
    assert np.abs(later[corner] - source_later[corner]).mean() > 15


@pytest.mark.slow
def test_signed_c2pa_manifest_records_ai_voice_translation_and_original(
    made: dict[str, Any], chain: Chain
) -> None:
    clip = files(made["result"])["english-voice.mp4"]
    manifest, state = read_manifest(clip, "video/mp4", chain.ca)
    assert state == "Trusted"
    actions = next(a for a in manifest["assertions"] if a["label"] == "c2pa.actions.v2")
    by_name = {a["action"]: a for a in actions["data"]["actions"]}
    assert list(by_name) == ["c2pa.opened", "c2pa.translated", "c2pa.edited"]
    assert by_name["c2pa.edited"]["digitalSourceType"] == AI
    assert by_name["c2pa.edited"]["softwareAgent"]["name"] == "Piper en_US-joe-medium"
    assert by_name["c2pa.translated"]["digitalSourceType"] == AI
    assert by_name["c2pa.translated"]["parameters"] == {
        "sourceLanguage": "ru",
        "targetLanguage": "en",
    }
    sha = provenance.sha256_of(made["original"])
    assert [i["instance_id"] for i in manifest["ingredients"]] == [f"sha256:{sha}"]
    source = next(a for a in manifest["assertions"] if a["label"] == "org.tolmach.source")
    assert source["data"]["sha256"] == sha
    assert manifest["signature_info"]["common_name"] == "tolmach test signer"
    assert report(made["result"])["c2pa"] == {
        "signed": True,
        "signer": "O=tolmach tests,CN=tolmach test signer",
        "warning": "",
    }


@pytest.mark.slow
def test_empty_translation_gives_the_disclosure_alone_and_warns_unsigned(tmp_path: Path) -> None:
    original = tone_video(tmp_path / "silent.mp4", seconds=3.0)
    result = voice.run(make_ctx(tmp_path, original, (), voice_engine="espeak"))
    data = report(result)
    assert data["segments"] == [] and result.summary["no_speech"]
    assert data["engine"] == "espeak" and data["voice"] == "en-us"
    assert not data["c2pa"]["signed"] and "not signed" in data["c2pa"]["warning"]
    assert "not signed" in result.summary["warning"]
    samples = decode(files(result)["voiceover.wav"])
    lead = int(data["lead_in_s"] * audio.RATE)
    assert np.abs(samples[:lead]).max() > 0.1  # the disclosure
    assert np.abs(samples[lead + audio.RATE // 5 :]).max() < 0.01  # and nothing after it
    info = ffprobe(files(result)["english-voice.mp4"])
    assert float(info["format"]["duration"]) == pytest.approx(3.0 + data["lead_in_s"], abs=0.15)


@pytest.mark.slow
def test_a_2000_character_segment_is_spoken_and_cut_at_its_room(tmp_path: Path) -> None:
    sentence = "The 96th brigade was left without water near the SMO line for days 🙏"
    text = ". ".join([sentence] * 29) + ". More at https://t.me/brigade96."
    assert len(text) >= 2000
    original = tone_video(tmp_path / "long.mp4", seconds=6.0)
    result = voice.run(make_ctx(tmp_path, original, ((0.5, 5.0, text),), voice_engine="espeak"))
    seg = report(result)["segments"][0]
    assert seg["outcome"] == "truncated" and seg["flagged"] and seg["tempo"] == 1.4
    assert seg["natural"] > 60 and seg["length"] == pytest.approx(5.5, abs=0.05)
    assert "ninety-sixth brigade" in seg["spoken"] and "S-M-O" in seg["spoken"]
    assert "🙏" not in seg["spoken"] and "a link to t dot me" in seg["spoken"]


def test_missing_voice_file_fails_before_any_work(tmp_path: Path) -> None:
    original = tone_video(tmp_path / "o.mp4", seconds=1.0)
    ctx = make_ctx(tmp_path, original, SEGMENTS[:1], voice_model=str(tmp_path / "none.onnx"))
    with pytest.raises(ModelError, match=r"none\.onnx does not exist"):
        voice.run(ctx)
    assert list(ctx.work_dir.iterdir()) == []


def test_a_key_that_does_not_match_its_certificate_fails_first(
    tmp_path: Path, chain: Chain
) -> None:
    original = tone_video(tmp_path / "o.mp4", seconds=1.0)
    ctx = make_ctx(
        tmp_path, original, SEGMENTS[:1], c2pa_cert=chain.chain, c2pa_key=chain.other_key
    )
    with pytest.raises(ConfigError, match="does not match the certificate"):
        voice.run(ctx)
    assert list(ctx.work_dir.iterdir()) == []


def test_a_self_signed_certificate_is_refused_and_nothing_is_written(
    tmp_path: Path, chain: Chain
) -> None:
    clip = tone_video(tmp_path / "o.mp4", seconds=1.0)
    signer = provenance.check_signer(
        Settings(data_dir=tmp_path, c2pa_cert=chain.self_signed, c2pa_key=chain.key)
    )
    assert signer is not None
    definition = provenance.voice_over_manifest(clip, "o.mp4", "Piper x", "llama y", "ru")
    dest = tmp_path / "signed.mp4"
    with pytest.raises(ConfigError, match="could not be signed"):
        provenance.sign(definition, signer, clip, dest, "video/mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4"]


def test_only_half_a_signing_pair_is_a_config_error(tmp_path: Path, chain: Chain) -> None:
    with pytest.raises(ConfigError, match="Only one of c2pa_cert and c2pa_key"):
        provenance.check_signer(Settings(data_dir=tmp_path, c2pa_cert=chain.chain))


@pytest.mark.slow
def test_audio_only_item_gets_the_dark_background_and_the_labels(tmp_path: Path) -> None:
    message = tmp_path / "voice message.m4a"
    ffmpeg("-i", str(RU_WAV), "-c:a", "aac", "-b:a", "64k", str(message))
    result = voice.run(make_ctx(tmp_path, message, SEGMENTS[:1], voice_engine="espeak"))
    clip = files(result)["english-voice.mp4"]
    info = ffprobe(clip)
    picture = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (picture["width"], picture["height"]) == (1280, 720)
    lead = report(result)["lead_in_s"]
    seconds = float(ffprobe(message)["format"]["duration"])
    assert float(info["format"]["duration"]) == pytest.approx(seconds + lead, abs=0.15)
    frame = gray(clip, lead + 4.0)
    assert frame[10:40, 560:630].mean() > frame[300:360, 200:440].mean() + 20  # the corner label


@pytest.mark.slow
def test_a_reviewed_translation_is_disclosed_as_reviewed(tmp_path: Path) -> None:
    original = tone_video(tmp_path / "o.mp4", seconds=3.0)
    result = voice.run(make_ctx(tmp_path, original, SEGMENTS[:1], True, voice_engine="espeak"))
    tags = ffprobe(files(result)["english-voice.mp4"])["format"]["tags"]
    assert tags["comment"] == (
        "AI-generated English voice (espeak-ng en-us); machine translation, reviewed by a person"
    )
    assert report(result)["disclosure"]["text"] == tags["comment"]
