"""Build the benchmark corpus under bench/corpus/ (git-ignored), reproducibly.

No long real Russian recording can be shipped or downloaded here, so the corpus is mostly
synthetic: the first Russian sentences of the Tatoeba test set
(../shared/data/mt/tatoeba/eng-rus/) spoken by Debian's Festival Russian voice
(festvox-ru, msu_ru_nsh_clunits), joined with short pauses, with the real 5.7 s recording
samples/ru.wav inserted every ~2.5 minutes. Whisper base does worse on this voice than on real
read speech (about 33% WER against about 19%), so treat WER here as a relative measure.

Outputs:
    ru-10min.wav     ~10 minutes, 16 kHz mono s16
    ru-10min.txt     its reference transcript, one utterance a line
    ru-1h.wav        the 10-minute audio repeated 6 times (memory benchmark)
    clip-60s.mp4     60 s, 1280x720 H.264 (testsrc2) + AAC of the first 60 s of the audio
    clip-60s.txt     the utterances that end within those 60 s
    manifest.json    every utterance with its start/end, and each file's sha256

Needs: festival and festvox-ru (`sudo apt-get install -y festival festvox-ru`), ffmpeg.

    .venv/bin/python bench/make_corpus.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from _common import CLIP_60S, CORPUS, MANIFEST, REF_10MIN, REPO, WAV_1H, WAV_10MIN

RATE = 16000
TATOEBA = (
    REPO.parent / "shared" / "data" / "mt" / "tatoeba" / "eng-rus" / "tatoeba-test-v2021-08-07.rus"
)
REAL_WAV = REPO / "samples" / "ru.wav"
REAL_TEXT = "бедняга ребят на его месте должен был быть я"
VOICE = "voice_msu_ru_nsh_clunits"
VOICE_DIR = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")
PAUSE_S = 0.6  # silence between utterances (Festival adds a little of its own)
REAL_EVERY_S = 150.0  # insert the real recording after this much synthetic speech
HOUR_REPEATS = 6
# Festival's Russian voice knows Cyrillic letters and -'?!.,; only: no digits, no Latin names.
SPEAKABLE = re.compile(r"[А-Яа-яЁё ,.!?;'\-]+")


def check_tools() -> None:
    if not shutil.which("festival") or not VOICE_DIR.is_dir():
        sys.exit(
            "Festival with its Russian voice is needed:\n"
            "    sudo apt-get install -y festival festvox-ru"
        )
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is needed: sudo apt-get install -y ffmpeg")
    if not TATOEBA.is_file():
        sys.exit(f"missing {TATOEBA} (the shared Tatoeba test set)")


def sentences(limit: int) -> list[str]:
    """The first ``limit`` distinct speakable sentences of at least 3 words, in file order."""
    seen: set[str] = set()
    out: list[str] = []
    for line in TATOEBA.read_text(encoding="utf-8").splitlines():
        s = " ".join(line.split())
        if s in seen or not SPEAKABLE.fullmatch(s) or len(s.split()) < 3:
            continue
        seen.add(s)
        out.append(s.replace("ё", "е").replace("Ё", "Е"))
        if len(out) >= limit:
            break
    return out


def synthesise(texts: list[str], folder: Path) -> list[Path]:
    """One Festival process speaks every text into its own 16 kHz WAV."""
    script = [f"({VOICE})"]
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"s{i:04d}.wav"
        paths.append(path)
        script += [
            f'(set! u (utt.synth (Utterance Text "{text}")))',
            f"(utt.wave.resample u {RATE})",
            f'(utt.save.wave u "{path}" \'riff)',
        ]
    scm = folder / "speak.scm"
    scm.write_text("\n".join(script) + "\n", encoding="utf-8")
    subprocess.run(["festival", "-b", str(scm)], check=True, timeout=3600)
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"festival did not write {len(missing)} files, e.g. {missing[0]}")
    return paths


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            sys.exit(f"{path} is not 16 kHz mono s16")
        return w.readframes(w.getnframes())


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def build_10min(minutes: float, work: Path) -> list[dict[str, object]]:
    target = minutes * 60
    texts = sentences(int(target / 3.0) + 40)  # about 4 s an utterance; spare ones
    print(f"synthesising {len(texts)} sentences with Festival ({VOICE})...", flush=True)
    wavs = synthesise(texts, work)
    real = read_pcm(REAL_WAV)
    pause = b"\0\0" * int(PAUSE_S * RATE)
    utterances: list[dict[str, object]] = []
    t = 0.0
    since_real = 0.0
    with wave.open(str(WAV_10MIN), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)

        def add(pcm: bytes, text: str, kind: str) -> None:
            nonlocal t
            start = t
            out.writeframes(pcm + pause)
            t += (len(pcm) + len(pause)) / 2 / RATE
            utterances.append(
                {"start": round(start, 3), "end": round(t, 3), "text": text, "kind": kind}
            )

        for text, wav in zip(texts, wavs, strict=True):
            if t >= target:
                break
            add(read_pcm(wav), text, "synthetic")
            since_real += utterances[-1]["end"] - utterances[-1]["start"]  # type: ignore[operator]
            if since_real >= REAL_EVERY_S:
                add(real, REAL_TEXT, "real")
                since_real = 0.0
    if t < target:
        sys.exit(f"only {t:.0f} s of speech from the sentences; raise the sentence count")
    REF_10MIN.write_text("\n".join(str(u["text"]) for u in utterances) + "\n", encoding="utf-8")
    return utterances


def build_1h() -> None:
    pcm = read_pcm(WAV_10MIN)
    with wave.open(str(WAV_1H), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for _ in range(HOUR_REPEATS):
            out.writeframes(pcm)


def build_clip(utterances: list[dict[str, object]]) -> None:
    cmd = [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-i", str(WAV_10MIN),
        "-t", "60", "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
        "-movflags", "+faststart", str(CLIP_60S),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=600)
    inside = [str(u["text"]) for u in utterances if float(u["end"]) <= 60.0]  # type: ignore[arg-type]
    CLIP_60S.with_suffix(".txt").write_text("\n".join(inside) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the main WAV")
    args = ap.parse_args()
    check_tools()
    CORPUS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tolmach-corpus-") as tmp:
        utterances = build_10min(args.minutes, Path(tmp))
    build_1h()
    build_clip(utterances)
    synthetic = sum(
        float(u["end"]) - float(u["start"])  # type: ignore[arg-type]
        for u in utterances
        if u["kind"] == "synthetic"
    )
    total = float(utterances[-1]["end"])  # type: ignore[arg-type]
    files = [WAV_10MIN, REF_10MIN, WAV_1H, CLIP_60S, CLIP_60S.with_suffix(".txt")]
    manifest = {
        "source_text": "../shared/data/mt/tatoeba/eng-rus/tatoeba-test-v2021-08-07.rus",
        "voice": f"festival {VOICE} (Debian festvox-ru)",
        "real_recording": {"file": "samples/ru.wav", "text": REAL_TEXT},
        "duration_s": round(total, 2),
        "synthetic_share": round(synthetic / total, 3),
        "utterances": utterances,
        "files": {p.name: {"size": p.stat().st_size, "sha256": sha256(p)} for p in files},
    }
    MANIFEST.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    real = sum(1 for u in utterances if u["kind"] == "real")
    print(
        f"{WAV_10MIN.relative_to(REPO)}: {total:.1f} s, {len(utterances)} utterances "
        f"({real} real, {100 * synthetic / total:.0f}% of the time synthetic)"
    )
    for name, facts in manifest["files"].items():  # type: ignore[attr-defined]
        print(f"  {name:14} {facts['size']:>11,} B  sha256 {facts['sha256'][:16]}")


if __name__ == "__main__":
    main()
