"""Voice stage: an English voice-over of the translation, always disclosed as AI-generated.

An opt-in stage: ``run`` and ``process`` pass it by (and record nothing) unless
``voice_in_run`` is set; ``tolmach voice ITEM`` runs it with that setting on. Writes:

- ``voiceover.wav``: the voice track alone (48 kHz mono, at ``voice_loudness``);
- ``english-voice.mp4``: the English clip (burned-in subtitles and translation label, as
  ``render`` draws them) with the voice mixed over the original, which is ducked under the
  voice but never removed, at ``voice_loudness`` LUFS; the AI labels on screen; the
  disclosure in its MP4 tags and, when a key is set, a signed C2PA manifest;
- ``voice.json``: engine, voice, the disclosure, the lead-in, the loudness, the C2PA state and
  one fit report per segment (see ``tolmach.voice.fit``).

An empty translation (no speech) still gets a voice-over: the disclosure alone over the
original, so that every item of a voiced batch has its clip and the clip says what it is.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tolmach import __version__
from tolmach.engines.tts import load_tts
from tolmach.media import safe_path
from tolmach.models import Cue, Translation
from tolmach.pipeline import ass, render
from tolmach.pipeline.context import StageContext, StageResult, json_bytes
from tolmach.subtitles.formats import parse
from tolmach.voice import audio, disclose, picture, provenance
from tolmach.voice.track import SPOKEN_DISCLOSURE, Clock, Line, build, opening, voiced_spans

log = logging.getLogger(__name__)


def run(ctx: StageContext) -> StageResult:
    """The voice-over, its voice track and its report."""
    prefix = f"[{ctx.item.id}:voice]"
    s = ctx.settings
    signer = provenance.check_signer(s)  # a bad key fails here, before any work
    translation = Translation.from_dict(ctx.read_json("translation.json"))
    lines = [Line(seg.start, seg.end, seg.text) for seg in translation.segments]
    src = render.source_of(ctx.item.media, ctx.item.kind, ctx.item.duration)
    clock = Clock()
    engine = load_tts(s)
    label = render.label_text(translation)
    note = disclose.translation_note(label == ass.LABEL_REVIEWED)
    statement = disclose.statement(engine.engine, engine.voice, note)
    detail = f"{disclose.voice_name(engine.engine, engine.voice)} · {note}"
    log.info("%s speaking %d segments with %s %s", prefix, len(lines), engine.engine, engine.voice)
    opened = opening(engine)  # the lead-in is all the picture needs of the voice
    work = ctx.work_dir
    total = opened[1] + src.duration
    with _picture(ctx, src, opened[1], label, detail) as drawing:
        track = build(engine, lines, src.duration, s.voice_max_tempo, ctx.on_progress, opened)
        clock.lap("speech")
        raw_voice = audio.write_wav(work / "voice-raw.wav", track.samples, track.sample_rate)
        even_voice = work / "voice-even.wav"
        even_lufs = audio.compress(raw_voice, even_voice)
        with ThreadPoolExecutor(1) as beside:  # the voice track alone, while the mix is made
            alone = beside.submit(
                audio.normalise, even_voice, work / "voiceover.wav", s.voice_loudness, 1, even_lufs
            )
            original = ctx.path("original") if src.audio else None
            mixed = work / "mix-raw.wav"
            spans = voiced_spans(track)
            mixed_lufs = audio.mix(original, even_voice, track.lead_in, spans, mixed)
            mix_lufs = audio.normalise(mixed, work / "mix.wav", s.voice_loudness, 2, mixed_lufs)
            voice_lufs = alone.result()
        sound = picture.encode_sound(work / "mix.wav", work / "mix.m4a")
        clock.lap("mix")
        drawn = drawing.wait(600 + 20 * total)
        clock.lap("picture")  # what of the encode was left when the sound was ready
    unsigned = picture.mux(
        drawn, sound, disclose.metadata_args(statement), total, work / "unsigned.mp4"
    )
    clock.lap("mux")
    signed = provenance.Signed(unsigned, False, warning=provenance.UNSIGNED)
    if signer is not None:
        definition = provenance.voice_over_manifest(
            ctx.path("original"),
            f"original.{ctx.item.ext}",
            disclose.voice_name(engine.engine, engine.voice),
            f"{translation.engine} {translation.model}".strip(),
            translation.source_language or "und",
            note,
        )
        dest = work / "english-voice.mp4"
        provenance.sign(definition, signer, unsigned, dest, "video/mp4")
        signed = provenance.Signed(dest, True, signer.name)
    else:
        log.warning("%s %s", prefix, signed.warning)
    clock.lap("sign")

    placed = [p.to_dict() for p in track.placed]
    spoken = [p for p in track.placed if p.fit is not None]
    fit_share = sum(p.fit.in_slot for p in spoken if p.fit) / len(spoken) if spoken else 1.0
    report: dict[str, Any] = {
        "engine": engine.engine,
        "voice": engine.voice,
        "disclosure": {
            "text": statement,
            "spoken": SPOKEN_DISCLOSURE,
            "on_screen": [disclose.OPENING_LABEL, disclose.CORNER_LABEL],
        },
        "lead_in_s": track.lead_in,
        "loudness_lufs": {"target": s.voice_loudness, "voice": voice_lufs, "mix": mix_lufs},
        "c2pa": signed.to_dict(),
        "fit_share": round(fit_share, 3),
        "max_tempo": s.voice_max_tempo,
        "segments": placed,
        "timings_s": clock.laps,
        "tool_version": __version__,
    }
    summary = {
        "engine": engine.engine,
        "voice": engine.voice,
        "segments": len(spoken),
        "fit_share": report["fit_share"],
        "flagged": [p["index"] for p in placed if p["flagged"]],
        "c2pa_signed": signed.signed,
    }
    if signed.warning:
        summary["warning"] = signed.warning
    if not spoken:
        summary["no_speech"] = True
    files: dict[str, bytes | Path] = {
        "voiceover.wav": work / "voiceover.wav",
        "english-voice.mp4": signed.path,
        "voice.json": json_bytes(report),
    }
    return StageResult(files=files, engine=engine.engine, summary=summary)


def _picture(
    ctx: StageContext, src: render.Source, lead: float, label: str, detail: str
) -> picture.Picture:
    """The clip's picture, started in the background: the original's, first frame held for the
    lead-in, with the subtitles and translation label (cues shifted by the lead-in) and the AI
    labels; the dark background for audio-only items."""
    width, height = render.landscape_size(src)
    layout = ass.landscape_layout(width, height)
    cues = [dataclasses.replace(c, start=c.start + lead, end=c.end + lead) for c in _cues(ctx)]
    total = lead + src.duration
    script = ass.write(ctx.work_dir / "subs.ass", layout, cues, label, total)
    labels = disclose.on_screen(width, height, lead, detail)
    text = f"ass=filename={render.filter_value(safe_path(script))},{labels},format=yuv420p"
    inputs: list[str] = []
    if src.video_index is not None:
        inputs += ["-i", safe_path(ctx.path("original"))]
        frames = (
            f"[0:{src.video_index}]tpad=start_duration={lead:.3f}:start_mode=clone,"
            f"scale={width}:{height},setsar=1"
        )
    else:
        frames = f"color=c={render.BACKGROUND}:s={width}x{height}:r=25:d={total:.3f}"
    options = picture.x264_options(ctx.settings)
    return picture.Picture(inputs, f"{frames},{text}[v]", options, ctx.work_dir / "picture.mp4")


def _cues(ctx: StageContext) -> list[Cue]:
    data = ctx.read_bytes("english.srt") if ctx.has("english.srt") else b""
    return parse(data, "english.srt") if data.strip() else []
