"""The command line end to end, with the real engines on real speech, and its error paths."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from conftest import REPO, RU_WAV, ffprobe, second_database

TOLMACH = [sys.executable, "-m", "tolmach"]


def tolmach(
    data: Path, *args: str, timeout: float = 600, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data), **(env_extra or {})}
    return subprocess.run(
        [*TOLMACH, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the module, so models are assembled once."""
    return tmp_path_factory.mktemp("tolmach-data")


@pytest.fixture(scope="module")
def ru_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import MediaFactory

    return MediaFactory(tmp_path_factory.mktemp("media")).speech_video("солдаты 96 полк.mp4")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.model
@pytest.mark.slow
def test_run_real_clip_end_to_end(data_dir: Path, ru_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = tolmach(data_dir, "run", str(ru_clip), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["language"] == "ru" and summary["segments"] >= 1
    expected = {
        "manifest.json",
        "capture.json",
        "original.mp4",
        "transcript.json",
        "transcript.txt",
        "source.srt",
        "source.vtt",
        "translation.json",
        "english.srt",
        "english.vtt",
        "clip.en.mp4",
        "clip.en.vertical.mp4",
    }
    assert expected <= {p.name for p in out.iterdir()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["item_id"] == summary["item_id"]
    for entry in manifest["files"]:
        assert _sha(out / entry["name"]) == entry["sha256"], entry["name"]
    by_name = {e["name"]: e for e in manifest["files"]}
    assert by_name["transcript.json"]["model"]["sha256"].startswith("d01c3014")
    assert by_name["translation.json"]["model"]["sha256"].startswith("a5fd3b62")
    assert by_name["clip.en.mp4"]["stage"] == "render"
    assert _sha(out / "original.mp4") == _sha(ru_clip)
    capture = json.loads((out / "capture.json").read_text())
    assert capture["sha256"] == _sha(ru_clip) and capture["source"]["name"] == ru_clip.name
    transcript = json.loads((out / "transcript.json").read_text())
    translation = json.loads((out / "translation.json").read_text())
    assert [s["id"] for s in translation["segments"]] == [s["id"] for s in transcript["segments"]]
    assert all(s["text"].strip() for s in translation["segments"])
    assert translation["label"].startswith("machine translation, unreviewed")
    for clip in ("clip.en.mp4", "clip.en.vertical.mp4"):
        info = ffprobe(out / clip)
        codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
        assert codecs == {"video": "h264", "audio": "aac"}
    vertical = next(
        s for s in ffprobe(out / "clip.en.vertical.mp4")["streams"] if s["codec_type"] == "video"
    )
    assert (vertical["width"], vertical["height"]) == (720, 1280)

    again = tolmach(data_dir, "show", summary["item_id"], "--json")
    assert json.loads(again.stdout)["status"] == "processed"
    listed = tolmach(data_dir, "list", "--json")
    assert summary["item_id"] in listed.stdout


@pytest.mark.model
@pytest.mark.slow
def test_voice_message_and_silence(data_dir: Path, tmp_path: Path) -> None:
    from conftest import MediaFactory

    media = MediaFactory(tmp_path / "m")
    voice = tolmach(data_dir, "run", str(media.audio()), "--out", str(tmp_path / "v"), "--json")
    assert voice.returncode == 0, voice.stderr
    assert json.loads(voice.stdout)["segments"] >= 1
    assert (tmp_path / "v" / "clip.en.mp4").is_file()
    for name, audio in (("silent.mp4", True), ("mute.mp4", False)):
        clip = media.silent_video(name, audio=audio)
        proc = tolmach(data_dir, "run", str(clip), "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        assert "no speech found" in proc.stdout
        shown = json.loads(tolmach(data_dir, "show", _sha(clip)[:12], "--json").stdout)
        assert shown["status"] == "no_speech" and shown["no_speech"] is True


def _one_clear_error(proc: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert words in proc.stderr
    assert "what to do:" in proc.stderr


def test_bad_inputs_exit_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "readme.mp4"
    text.write_text("not a video\n" * 100)
    _one_clear_error(tolmach(data, "ingest", str(empty)), 2, "is empty")
    _one_clear_error(
        tolmach(data, "run", str(text), "--out", str(tmp_path / "o")),
        2,
        "is not a video or audio file",
    )
    _one_clear_error(tolmach(data, "ingest", str(tmp_path / "missing.mp4")), 2, "does not exist")
    _one_clear_error(tolmach(data, "show", "deadbeef"), 3, "No item")
    _one_clear_error(tolmach(data, "subtitles", "check", str(text)), 2, "readme.mp4")
    assert not (tmp_path / "o").exists()


@pytest.mark.model
def test_missing_or_corrupt_model(tmp_path: Path, ru_clip: Path) -> None:
    data = tmp_path / "data"
    proc = tolmach(
        data,
        "run",
        str(ru_clip),
        "--out",
        str(tmp_path / "o"),
        "--asr-model",
        str(tmp_path / "no-such-model"),
    )
    _one_clear_error(proc, 4, "does not exist")
    assert tolmach(data, "models", "install", "whisper-base").returncode == 0
    vocab = data / "models" / "whisper-base" / "vocabulary.txt"
    vocab.write_text("garbage")
    _one_clear_error(tolmach(data, "process", _sha(ru_clip)[:12]), 4, "corrupt")
    verify = tolmach(data, "models", "verify")
    assert verify.returncode == 4 and "CORRUPT" in verify.stdout


@pytest.mark.model
def test_translation_server_down(data_dir: Path, ru_clip: Path, tmp_path: Path) -> None:
    proc = tolmach(
        data_dir,
        "run",
        str(ru_clip),
        "--out",
        str(tmp_path / "o"),
        "--mt-engine",
        "openai",
        "--mt-url",
        "http://127.0.0.1:9/v1",
    )
    _one_clear_error(proc, 5, "127.0.0.1:9")


@pytest.mark.model
@pytest.mark.slow
def test_kill_mid_stage_then_rerun_gives_same_outputs(tmp_path: Path, ru_clip: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data)}
    child = subprocess.Popen(
        [*TOLMACH, "run", str(ru_clip), "--out", str(tmp_path / "a")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = data / "tolmach.db"
    url = os.environ.get("TOLMACH_DATABASE_URL") or f"sqlite:///{db}"  # as the child's
    engine = create_engine(url, poolclass=NullPool)
    deadline = time.time() + 300
    while time.time() < deadline and child.poll() is None:
        if url != f"sqlite:///{db}" or db.exists():
            with engine.connect() as conn:
                done = set(conn.scalars(text("select stage from stage_runs where status='done'")))
            if "transcribe" in done:
                break
        time.sleep(0.2)
    assert child.poll() is None, "the run finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    with engine.connect() as conn:
        assert conn.scalar(text("select count(*) from stage_runs where status!='done'")) == 0
    proc = tolmach(data, "run", str(ru_clip), "--out", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    clean_env = second_database()
    clean = tolmach(
        tmp_path / "clean", "run", str(ru_clip), "--out", str(tmp_path / "c"), env_extra=clean_env
    )
    assert clean.returncode == 0, clean.stderr
    for name in ("transcript.json", "translation.json", "english.srt", "source.vtt"):
        assert _sha(tmp_path / "b" / name) == _sha(tmp_path / "c" / name), name
    assert not list((data / "work").iterdir()), "the rerun left the killed run's scratch behind"


def test_doctor_and_version(tmp_path: Path) -> None:
    proc = tolmach(tmp_path / "d", "doctor")
    assert "ffmpeg" in proc.stdout and "model whisper-base" in proc.stdout
    assert tolmach(tmp_path / "d", "version").stdout.strip()


def test_readme_names_both_commands() -> None:
    text = (REPO / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert RU_WAV.is_file()
