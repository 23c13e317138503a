"""Transcription speed and word error rate: tolmach's transcribe stage against plain faster-whisper.

On bench/corpus/ru-10min.wav, in one process, with the same model (the catalog's whisper-base,
int8, all cores) and beam 5:

- sequential: ``WhisperModel.transcribe`` with VAD, language forced to ru
- batched:    ``BatchedInferencePipeline.transcribe``, batch 8, VAD, language forced to ru
- batched+words: the same with ``word_timestamps=True`` (what the stage asks for; shows where
              the stage's extra time goes)
- stage:      ``tolmach.pipeline.transcribe.run`` on a hand-built StageContext: loads its own
              model, detects the language among ru/uk, checks it with the text identifier,
              transcribes in windows with word timestamps

The cases run interleaved for ``--rounds`` rounds (order reversed every other round) and the
medians are reported, because the machine is shared. WER is computed with jiwer after the same
normalisation for reference and hypotheses (lower case, ё -> е, punctuation removed).

Target: stage <= 1.1 x batched.

    .venv/bin/python bench/transcribe.py [--rounds 2] [--cases sequential,batched,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    REF_10MIN,
    WAV_10MIN,
    load_whisper,
    machine,
    median,
    need_corpus,
    read_wav,
    stage_context,
    table,
    timed,
    wer,
)

TARGET = 1.1
CASES = ("sequential", "batched", "batched+words", "stage")


def make_cases(wav: Path, tmp: Path) -> dict[str, Callable[[], str]]:
    from faster_whisper import BatchedInferencePipeline

    from tolmach.pipeline import transcribe

    model = load_whisper()
    batched = BatchedInferencePipeline(model)
    audio = read_wav(wav)

    def sequential() -> str:
        segments, _ = model.transcribe(audio, language="ru", beam_size=5, vad_filter=True)
        return " ".join(s.text.strip() for s in segments)

    def plain_batched(words: bool = False) -> str:
        segments, _ = batched.transcribe(
            audio,
            language="ru",
            beam_size=5,
            batch_size=8,
            vad_filter=True,
            word_timestamps=words,
        )
        return " ".join(s.text.strip() for s in segments)

    runs = 0

    def stage() -> str:
        nonlocal runs
        runs += 1
        ctx = stage_context(wav, tmp / f"stage{runs}")
        result = transcribe.run(ctx)
        data = result.files["transcript.txt"]
        assert isinstance(data, bytes)
        stage.last_language = result.summary.get("language", "")  # type: ignore[attr-defined]
        return data.decode()

    def warmup() -> str:
        # 10 s through both paths, so first-call costs (thread pools, caches) land in no case.
        segments, _ = model.transcribe(audio[:160000], language="ru", beam_size=5)
        list(segments)
        segments, _ = batched.transcribe(audio[:160000], language="ru", batch_size=8)
        return " ".join(s.text for s in segments)

    return {
        "_warmup": warmup,
        "sequential": sequential,
        "batched": plain_batched,
        "batched+words": lambda: plain_batched(words=True),
        "stage": stage,
    }


def stage_parts(wav: Path, tmp: Path) -> dict[str, float]:
    """The stage's costs that plain batched transcription does not pay: loading its own model
    and detecting the language (on the stage's first window)."""
    from tolmach.engines import asr

    ctx = stage_context(wav, tmp / "parts")
    load_s, rec = timed(lambda: asr.make_recognizer(ctx.settings))
    audio = read_wav(wav)
    detect_s, _ = timed(lambda: rec.detect_language(audio, ["ru", "uk"]))
    return {"model load": load_s, "detect_language": detect_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--wav", type=Path, default=WAV_10MIN)
    ap.add_argument("--ref", type=Path, default=REF_10MIN)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    need_corpus(args.wav, args.ref)
    names = [c for c in args.cases.split(",") if c]
    reference = args.ref.read_text(encoding="utf-8")
    with wave.open(str(args.wav), "rb") as w:
        duration = w.getnframes() / w.getframerate()

    times: dict[str, list[float]] = {n: [] for n in names}
    wers: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="tolmach-bench-asr-") as tmp:
        cases = make_cases(args.wav, Path(tmp))
        cases.pop("_warmup")()
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                seconds, text = timed(cases[name])
                times[name].append(seconds)
                wers[name].append(wer(reference, text))
                print(
                    f"round {r + 1} {name:14} {seconds:7.1f} s  WER {wers[name][-1]:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
        language = getattr(cases["stage"], "last_language", "-")
        parts = stage_parts(args.wav, Path(tmp)) if "stage" in names else {}

    med = {n: median(times[n]) for n in names}
    print(f"\nTranscription of {args.wav.name} ({duration:.0f} s); {machine()}")
    print(f"median of {args.rounds} interleaved rounds; stage language: {language}")
    rows: list[list[Any]] = []
    for n in names:
        vs = med[n] / med["batched"] if "batched" in med else float("nan")
        rows.append(
            [
                n,
                med[n],
                " / ".join(f"{t:.1f}" for t in times[n]),
                med[n] / duration,
                vs,
                median(wers[n]),
            ]
        )
    print(table(["case", "median s", "runs s", "RTF", "x batched", "WER"], rows))
    if {"sequential", "batched"} <= med.keys():
        print(f"batched / sequential: {med['batched'] / med['sequential']:.2f}")
    if {"stage", "batched"} <= med.keys():
        ratio = med["stage"] / med["batched"]
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(f"stage / batched: {ratio:.2f} (target <= {TARGET}: {verdict})")
    if {"stage", "batched+words"} <= med.keys():
        print(f"stage / batched+words: {med['stage'] / med['batched+words']:.2f}")
    if parts:
        print(
            "stage fixed costs (once, after the rounds): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
        )
    if args.json:
        raw = {"duration": duration, "times": times, "wer": wers, "language": language}
        raw["stage_parts"] = parts
        args.json.write_text(json.dumps(raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
