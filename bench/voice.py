"""The English voice-over measured: intelligibility, loudness, slot fit, speed; and narration.

For an item already processed by ``tolmach run`` (its translation, subtitles and render made),
in the data folder given:

- runs the voice stage (``tolmach.pipeline.voice.run``) on a StageContext built from the
  item's stored outputs, and times it against the clip's duration (target < 0.25x);
- transcribes ``voiceover.wav`` back with tolmach's speech engine (faster-whisper, the
  catalog's whisper-base, language forced to "en") and computes the word error rate against
  the English that was to be spoken: the disclosure and every segment, both sides read through
  ``speech_text.for_speech`` (so "96th" and "ninety-sixth" are the same word) and the bench's
  normalisation (target < 15%). Truncated segments lose their tail, and that counts as errors;
- measures the clip's integrated loudness and true peak with ffmpeg's ``ebur128`` filter
  (target -16 LUFS +-1);
- reports the share of segments spoken inside their slot (target >= 90%);
- reads a story of ``--words`` words (Tatoeba English sentences in paragraphs of about 100
  words) aloud with ``narrate`` and times it (target < 20 s for 1,000 words).

    .venv/bin/python bench/voice.py --data-dir DATA [--item ID] [--words 1000] [--engine piper]
        [--preset veryfast] [--skip-narration] [--as-audio] [--rounds 2] [--baseline REF]
    .venv/bin/python bench/voice.py --sentences 120 --skip-narration

Every case is run against a baseline in the same command: tolmach's ``src`` at the git ref
``--baseline`` (default: the commit before the voice speed work) is taken out into a temporary
folder, and each round runs the baseline and the working tree, each in a process of its own
(the baseline first in odd rounds, second in even ones), so both meet the same load. The
table gives the medians over the rounds and their ratio; each run's line gives the load
average before it.

``--sentences N`` replaces the item by a harder case for fitting: one segment per sentence
(the first N seconds of bench/corpus/ru-10min.wav, each Russian sentence's time from the
corpus manifest, its English from the Tatoeba test set), so each slot is one sentence long.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import MANIFEST, MODELS, REPO, WAV_10MIN, machine, median, need_corpus, table, wer

TATOEBA_EN = REPO.parent / "shared" / "data" / "mt" / "tatoeba" / "eng-rus"
BASELINE = "aafc7fe~1"  # the voice stage and narration before they were made faster


def stage_context(args: argparse.Namespace, work: Path) -> Any:
    """A voice StageContext for ``--item`` (default: the newest item) from its stored outputs;
    with ``--as-audio`` the item is taken for a voice message (its picture left out)."""
    from sqlalchemy import select

    from tolmach.config import Settings
    from tolmach.pipeline.context import ItemInfo, StageContext
    from tolmach.store import queries
    from tolmach.store.tables import Item
    from tolmach.workspace import Workspace

    settings = Settings(
        data_dir=args.data_dir,
        voice_in_run=True,
        voice_engine=args.engine,
        render_preset=args.preset,
    )
    ws = Workspace.open(settings)
    with ws.db() as session:
        row = (
            queries.get_item(session, args.item)
            if args.item
            else session.scalars(select(Item).order_by(Item.created_at.desc())).first()
        )
        assert row is not None, "no item in that data folder"
        inputs = queries.current_outputs(session, row.id)
        media = json.loads(row.media_json)
        kind = row.kind
        if args.as_audio:
            kind = "audio"
            media["streams"] = [s for s in media["streams"] if s["codec_type"] == "audio"]
        info = ItemInfo(row.id, row.sha256, row.ext, kind, row.duration, media)
    work.mkdir(parents=True, exist_ok=True)
    return StageContext(info, settings, ws.blobs, inputs, work)


def sentence_context(args: argparse.Namespace, work: Path) -> Any:
    """A voice StageContext of one segment per sentence: the first ``--sentences`` seconds of
    bench/corpus/ru-10min.wav (as a voice message) with each Russian sentence's slot from the
    corpus manifest and its English from the Tatoeba test set (a person's translation)."""
    from tolmach import media
    from tolmach.config import Settings
    from tolmach.models import EnglishSegment, Translation
    from tolmach.pipeline.context import ItemInfo, StageContext, json_bytes
    from tolmach.store.blobs import BlobStore

    need_corpus(WAV_10MIN, MANIFEST)
    work.mkdir(parents=True, exist_ok=True)
    seconds = args.sentences
    clip = work / "sentences.m4a"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(WAV_10MIN), "-t", str(seconds),
         "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    rus = (TATOEBA_EN / "tatoeba-test-v2021-08-07.rus").read_text().splitlines()
    eng = (TATOEBA_EN / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()
    english = dict(zip(rus, eng, strict=True))
    utterances = json.loads(MANIFEST.read_text())["utterances"]
    segments = tuple(
        EnglishSegment(n, u["start"], u["end"], english[u["text"]])
        for n, u in enumerate(x for x in utterances if x["end"] <= seconds and x["text"] in english)
    )
    settings = Settings(
        data_dir=work / "data",
        voice_in_run=True,
        voice_engine=args.engine,
        render_preset=args.preset,
    )
    blobs = BlobStore(settings.blob_dir)
    translation = Translation("ru", segments, "tatoeba", "human")
    inputs = {
        "original": blobs.put_file(clip)[0],
        "translation.json": blobs.put_bytes(json_bytes(translation.to_dict()))[0],
        "english.srt": blobs.put_bytes(b"")[0],
    }
    facts = media.probe(clip)
    item = ItemInfo("sentences", inputs["original"], "m4a", "audio", facts["duration"], facts)
    return StageContext(item, settings, blobs, inputs, work)


def loudness(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128 filter."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-i", str(path), "-map", "0:a", "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = proc.stderr[proc.stderr.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return integrated, peak


def transcribe_en(wav: Path) -> str:
    """tolmach's speech engine on ``wav``, language forced to English."""
    import numpy as np

    from tolmach.config import Settings
    from tolmach.engines.asr import make_recognizer

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "models").symlink_to(MODELS, target_is_directory=True)
        recognizer = make_recognizer(Settings(data_dir=data))
        raw = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-ac", "1", "-ar", "16000",
             "-f", "f32le", "-"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        samples = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return " ".join(s.text for s in recognizer.transcribe(samples, "en"))


def story(words: int) -> str:
    """About ``words`` words of English sentences, in paragraphs of about 100 words."""
    lines = (TATOEBA_EN / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()
    paragraphs, current, count = [], [], 0
    for line in lines:
        if count >= words:
            break
        current.append(line.strip())
        count += len(line.split())
        if sum(len(s.split()) for s in current) >= 100:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def voice_case(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tolmach.models import Translation
    from tolmach.pipeline import voice
    from tolmach.voice.speech_text import for_speech
    from tolmach.voice.track import SPOKEN_DISCLOSURE

    if args.sentences:
        ctx = sentence_context(args, work / "stage")
    else:
        ctx = stage_context(args, work / "stage")
    start, cpu = time.perf_counter(), cpu_seconds()
    result = voice.run(ctx)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    report = json.loads(result.files["voice.json"])  # type: ignore[arg-type]
    clip, track = result.files["english-voice.mp4"], result.files["voiceover.wav"]
    assert isinstance(clip, Path) and isinstance(track, Path)
    translation = Translation.from_dict(ctx.read_json("translation.json"))
    reference = for_speech(" ".join([SPOKEN_DISCLOSURE, *(s.text for s in translation.segments)]))
    heard = transcribe_en(track)
    lufs, peak = loudness(clip)
    segs = report["segments"]
    return {
        "item": ctx.item.id,
        "duration": ctx.item.duration,
        "segments": len(segs),
        "outcomes": {o: sum(s["outcome"] == o for s in segs) for o in OUTCOMES},
        "fit_share": report["fit_share"],
        "wer": wer(reference, for_speech(heard)),
        "lufs": lufs,
        "peak": peak,
        "bytes": clip.stat().st_size,
        "wall": wall,
        "cpu": cpu,
        "timings": report["timings_s"],
        "heard": heard[:300],
    }


def narration_case(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tolmach.config import Settings
    from tolmach.voice.narrate import narrate

    text = story(args.words)
    path = work / "story.md"
    path.write_text(text)
    settings = Settings(data_dir=work / "n", voice_engine=args.engine)
    (work / "narrate").mkdir()
    start, cpu = time.perf_counter(), cpu_seconds()
    made = narrate(path, work / "story.m4a", settings, work / "narrate")
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    lufs, _ = loudness(made.path)
    return {
        "words": len(text.split()),
        "chapters": len(made.chapters),
        "duration": made.duration,
        "lufs": lufs,
        "wall": wall,
        "cpu": cpu,
        "timings": made.timings_s,
    }


OUTCOMES = ("fits", "sped", "overran", "truncated")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (ffmpeg's)."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def one_run(args: argparse.Namespace) -> dict[str, Any]:
    """Both cases with whichever tolmach this process imports (a child of ``main``)."""
    import tolmach

    with tempfile.TemporaryDirectory() as tmp:
        found: dict[str, Any] = {"tolmach": tolmach.__file__}
        found["voice"] = voice_case(args, Path(tmp))
        if not args.skip_narration:
            found["narration"] = narration_case(args, Path(tmp))
    return found


def baseline_src(ref: str, into: Path) -> Path:
    """tolmach's ``src`` as it was at the git ref ``ref``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def child(src: Path, argv: list[str], out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, __file__, *argv, "--one", str(out)], env=env, check=True)
    found: dict[str, Any] = json.loads(out.read_text())
    assert found["tolmach"].startswith(str(src)), found["tolmach"]
    return found


def runs_line(name: str, run: dict[str, Any]) -> str:
    v = run["voice"]
    line = (
        f"{name:8s} load {run['load']:4.1f}: voice {v['wall']:5.1f} s "
        f"({v['wall'] / v['duration']:.2f}x, CPU {v['cpu']:.0f} s; {_phases(v['timings'])}), "
        f"WER {v['wer']:.1%}, "
        f"{v['lufs']:.1f} LUFS, peak {v['peak']:.1f}, {v['bytes'] / 1e6:.1f} MB"
    )
    if "narration" in run:
        n = run["narration"]
        line += f"; narration {n['wall']:.1f} s (CPU {n['cpu']:.0f} s; {_phases(n['timings'])}), "
        line += f"{n['lufs']:.1f} LUFS"
    return line


def _phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if v >= 0.05)


def compare(runs: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    base, now = runs["baseline"], runs["now"]

    def row(name: str, get: Any, unit: str, target: str) -> list[Any]:
        b, n = median([get(r) for r in base]), median([get(r) for r in now])
        return [name, f"{b:.2f}{unit}", f"{n:.2f}{unit}", f"{n / b:.2f}", target]

    def both(name: str, show: Any, target: str) -> list[Any]:
        return [name, show(base), show(now), "", target]

    v0 = now[0]["voice"]
    outcomes = ", ".join(f"{k} {c}" for k, c in v0["outcomes"].items())
    rows = [
        row("voice stage wall", lambda r: r["voice"]["wall"], " s", ""),
        row("wall / clip duration", lambda r: r["voice"]["wall"] / r["voice"]["duration"], "", ""),
        row("voice stage CPU (all processes)", lambda r: r["voice"]["cpu"], " s", ""),
        both("WER (whisper-base, en), worst", lambda x: _worst(x, "wer"), "< 15%"),
        both("loudness (clip), LUFS", lambda x: _span(x, "lufs"), "-16 +-1"),
        both("in their slot", lambda x: _span(x, "fit_share"), ">= 90%"),
        row("clip size", lambda r: r["voice"]["bytes"] / 1e6, " MB", ""),
        ["segments, outcomes", "", f"{v0['segments']}: {outcomes}", "", ""],
    ]
    rows[1][-1] = "< 0.25"
    if "narration" in now[0]:
        n0 = now[0]["narration"]
        told = f"{n0['words']} words, {n0['chapters']} paragraphs, {n0['duration']:.0f} s"
        rows += [
            row("narration wall", lambda r: r["narration"]["wall"], " s", "< 20 s"),
            row("narration CPU (all processes)", lambda r: r["narration"]["cpu"], " s", ""),
            both("narration loudness, LUFS", lambda x: _span(x, "lufs", "narration"), "-16 +-1"),
            ["story", "", told, "", ""],
        ]
    return rows


def _worst(runs: list[dict[str, Any]], key: str) -> str:
    return f"{max(r['voice'][key] for r in runs):.1%}"


def _span(runs: list[dict[str, Any]], key: str, case: str = "voice") -> str:
    values = sorted(r[case][key] for r in runs)
    return f"{values[0]:.2f}" if values[0] == values[-1] else f"{values[0]:.2f} to {values[-1]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, help="a data folder with a processed item")
    ap.add_argument("--item", default=None)
    ap.add_argument("--words", type=int, default=1000)
    ap.add_argument("--engine", default="piper", choices=["piper", "espeak"])
    ap.add_argument("--preset", default="veryfast", help="x264 preset (render_preset)")
    ap.add_argument("--skip-narration", action="store_true")
    ap.add_argument("--as-audio", action="store_true", help="take the item for a voice message")
    ap.add_argument(
        "--sentences", type=float, default=0, help="seconds of the corpus, a segment a sentence"
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline", default=BASELINE, help="git ref of the baseline")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a child: one run, JSON here
    args = ap.parse_args()
    if args.data_dir is None and not args.sentences:
        ap.error("give --data-dir (an item) or --sentences SECONDS")
    if args.one:
        args.one.write_text(json.dumps(one_run(args)))
        return
    argv = list(sys.argv[1:])
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"baseline": baseline_src(args.baseline, Path(tmp)), "now": REPO / "src"}
        for n in range(args.rounds):
            for name in ("baseline", "now") if n % 2 == 0 else ("now", "baseline"):
                load = os.getloadavg()[0]
                run = child(sources[name], argv, Path(tmp) / f"{name}{n}.json")
                runs[name].append({**run, "load": load})
                print(runs_line(name, runs[name][-1]), flush=True)
    print(f"heard: {runs['now'][0]['voice']['heard']}...")
    kind = "as a voice message, " if args.as_audio else ""
    loads = [r["load"] for rs in runs.values() for r in rs]
    print(
        f"\n{args.engine}, {kind}render_preset {args.preset}; baseline {args.baseline}; "
        f"{args.rounds} rounds; load {min(loads):.1f}-{max(loads):.1f}; {machine()}"
    )
    print(
        table(
            ["measure", "baseline (median)", "now (median)", "now / baseline", "target"],
            compare(runs),
        )
    )


if __name__ == "__main__":
    main()
