"""Audio for the voice-over: WAV in and out, tempo, ducking the original, loudness (EBU R128).

Samples are float32 numpy arrays; ffmpeg does what it does best (decoding, resampling, the
``atempo`` time stretch, ``loudnorm``) through pipes, and the mixing is plain arithmetic.

Ducking is volume automation, not a compressor: tolmach knows exactly when the voice speaks,
so the original is lowered by ``DUCK_DB`` over those spans (with short ramps) and left as it is
elsewhere. The original is never removed: the soldier's own voice stays audible under the
English, which is what a viewer needs to trust a voice-over.

Loudness: the voice is compressed before mixing (``compress``); the result is measured (EBU
R128, ffmpeg's ``ebur128``), brought to the target by a gain and a peak limiter, measured again
and corrected (see ``normalise``). Every pass that writes a file meters it on the way, so no
file is read twice just to be measured.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import wave
from pathlib import Path

import numpy as np

from tolmach.engines.tts import Samples
from tolmach.errors import ToolError
from tolmach.media import safe_path, tool

RATE = 48_000
DUCK_DB = -14.0
RAMP_S = 0.25
TRUE_PEAK = -2.0  # sample peak of the limiter: true peaks land about 0.5 dB higher
TOLERANCE = 0.2  # LU
COMPRESSOR = "acompressor=threshold=0.125:ratio=3:attack=5:release=120"
LIMITER = f"alimiter=limit={10 ** (TRUE_PEAK / 20):.4f}:level=false"
PASSES = 4
METER = "ebur128=framelog=verbose"  # passes the sound on; its summary ends stderr


def write_wav(path: Path, samples: Samples, rate: int) -> Path:
    """16-bit PCM WAV, mono (1-D) or interleaved channels (2-D: frames x channels)."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def stretch(samples: Samples, rate: int, tempo: float) -> Samples:
    """The same speech ``tempo`` times faster, pitch unchanged (ffmpeg ``atempo``)."""
    if abs(tempo - 1.0) < 0.005 or len(samples) == 0:
        return samples
    raw = _ffmpeg(
        ["-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "-"],
        ["-filter:a", f"atempo={tempo:.4f}", "-f", "f32le", "-"],
        "changing the voice's tempo",
        stdin=samples.astype("<f4").tobytes(),
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def duck(
    original: Samples, spans: list[tuple[float, float]], rate: int = RATE, offset: int = 0
) -> Samples:
    """``original`` lowered by DUCK_DB during each (start, end) span, with RAMP_S ramps.

    ``offset``: the frame of the clip that ``original[0]`` is, when mixing block by block.
    """
    gain = np.ones(len(original), dtype=np.float32)
    low = 10 ** (DUCK_DB / 20)
    ramp = max(1, int(RAMP_S * rate))
    for start, end in spans:
        a, b = int(start * rate) - offset, int(end * rate) - offset
        lo, hi = max(0, a - ramp), min(len(gain), b + ramp)
        if lo >= hi:
            continue
        pos = np.arange(lo, hi)
        # 1 outside, `low` inside, linear over the ramp before a and after b
        depth = np.clip(np.minimum((pos - (a - ramp)) / ramp, ((b + ramp) - pos) / ramp), 0, 1)
        gain[lo:hi] = np.minimum(gain[lo:hi], 1 - depth * (1 - low))
    return original * (gain[:, None] if original.ndim == 2 else gain)


def mix(
    original: Path | None, voice: Path, lead_in: float, spans: list[tuple[float, float]], dest: Path
) -> float:
    """The original (delayed by ``lead_in``, ducked in ``spans``) plus the voice into ``dest``
    (a stereo WAV); its loudness (LUFS), metered as it is written.

    Both are decoded by ffmpeg and mixed ten seconds at a time, so an hour of media needs no
    more memory than a minute.
    """
    delay = f"adelay={round(lead_in * 1000)}:all=1"
    speaker = _reader(voice, 1, "anull")
    below = _reader(original, 2, delay) if original is not None else None
    procs = [p for p in (speaker, below) if p is not None]
    meter = dest.with_suffix(".meter.log")
    block = 10 * RATE
    frame = 0
    try:
        with meter.open("wb") as said:
            writer = subprocess.Popen(
                [
                    *[tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-y", "-f", "s16le"],
                    *["-ar", str(RATE), "-ac", "2", "-i", "-", "-filter:a", METER],
                    *["-c:a", "pcm_s16le", safe_path(dest)],
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=said,
            )
        procs.append(writer)
        assert writer.stdin is not None
        while True:
            speech = _read(speaker, block, 1)
            sound = _read(below, block, 2) if below else np.zeros((0, 2), dtype=np.float32)
            n = max(len(speech), len(sound))
            if n == 0:
                break
            chunk = np.zeros((n, 2), dtype=np.float32)
            chunk[: len(sound)] += duck(sound, spans, RATE, frame)
            chunk[: len(speech)] += speech[:, None]
            try:
                writer.stdin.write((np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes())
            except BrokenPipeError:  # the writer failed: said below
                break
            frame += n
        with contextlib.suppress(BrokenPipeError):
            writer.stdin.close()
        writer.wait(timeout=600)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    if any(proc.returncode not in (0, -9) for proc in procs) or writer.returncode != 0:
        raise ToolError("ffmpeg failed while mixing the voice-over.", "Check the input file.")
    return _loudness_in(meter.read_text(errors="replace"), "mixing the voice-over")


def _reader(path: Path, channels: int, filters: str) -> subprocess.Popen[bytes]:
    cmd = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", safe_path(path)]
    cmd += ["-map", "0:a:0", "-af", filters, "-ac", str(channels), "-ar", str(RATE)]
    return subprocess.Popen(
        [*cmd, "-f", "f32le", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


def _read(proc: subprocess.Popen[bytes], frames: int, channels: int) -> Samples:
    assert proc.stdout is not None
    want = frames * channels * 4
    data = b""
    while len(data) < want:
        got = proc.stdout.read(want - len(data))
        if not got:
            break
        data += got
    usable = len(data) - len(data) % (4 * channels)
    samples = np.frombuffer(data[:usable], dtype="<f4").astype(np.float32)
    return samples.reshape(-1, channels) if channels > 1 else samples


def compress(source: Path, dest: Path, rate: int = RATE) -> float:
    """The voice evened out (3:1 above -18 dBFS) at ``rate`` Hz, before it is mixed: Piper
    speaks every sentence up to full scale, about 20 dB above its loudness. Returns the
    loudness of ``dest`` (LUFS), metered as it is written."""
    chain = f"aresample={rate},{COMPRESSOR}"
    return _written(source, chain, dest, [], ["-c:a", "pcm_s16le"], "compressing the voice")


def normalise(
    source: Path,
    dest: Path,
    target: float,
    channels: int,
    measured: float | None = None,
    rate: int = RATE,
) -> float:
    """``source`` at ``target`` LUFS integrated into ``dest`` (a WAV at ``rate`` Hz); the
    loudness reached.

    A gain and a peak limiter, measured as ``dest`` is written and the gain corrected until
    within ``TOLERANCE`` (at most ``PASSES`` passes; the limiter takes a little of the gain
    back, more of each added dB: the next gain is found by the secant through the last two
    tries). ``measured``: the loudness of ``source`` when known (else it is measured first).
    ``loudnorm`` alone cannot do it for synthetic speech, whose peaks sit about 20 dB above
    its loudness: its linear mode is refused and its dynamic mode lands 1-2 LU short.
    """
    start = integrated(source) if measured is None else measured
    tried = [(0.0, start)]  # (gain, loudness reached)
    gain = target - start
    for _ in range(PASSES):
        chain = f"aresample={rate},volume={gain:.2f}dB,{LIMITER}"
        written = ["-ac", str(channels), "-c:a", "pcm_s16le"]
        reached = _written(source, chain, dest, [], written, "normalising loudness")
        if abs(target - reached) <= TOLERANCE:
            break
        tried.append((gain, reached))
        gain = _next_gain(tried, target)
    return reached


def _next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """The gain to try next, by the secant through the last two tries: the limiter takes back
    more of each added dB, so adding the shortfall alone (slope 1) took up to 4 passes."""
    (g0, r0), (g1, r1) = tried[-2], tried[-1]
    slope = (r1 - r0) / (g1 - g0) if abs(g1 - g0) > 0.01 else 1.0
    return g1 + (target - r1) / min(1.0, max(0.25, slope))


def integrated(source: Path) -> float:
    """Integrated loudness (LUFS, EBU R128) of ``source`` by ffmpeg's ``ebur128`` filter.

    (``loudnorm``'s measuring pass gives the same figure but resamples to 192 kHz for its
    true-peak meter: ten times the CPU.)
    """
    return _metered(["-i", safe_path(source), "-filter:a", METER, "-f", "null", "-"])


def _written(
    source: Path, chain: str, dest: Path, inputs: list[str], outputs: list[str], what: str
) -> float:
    """``source`` through the filter ``chain`` into ``dest`` with ``outputs`` options, metered
    on the way: one pass where writing and then measuring took two."""
    return _metered(
        [
            *["-i", safe_path(source), *inputs, "-filter:a", f"{chain},{METER}"],
            *["-map", "0:a", *outputs, safe_path(dest)],
        ],
        what,
    )


def _metered(args: list[str], what: str = "measuring the loudness") -> float:
    """Run ffmpeg with ``args`` (an ``ebur128`` meter in its filters); the integrated loudness."""
    proc = subprocess.run(
        [tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-y", *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise ToolError(f"ffmpeg failed while {what}: {tail}", "Check the ffmpeg install.")
    return _loudness_in(proc.stderr, what)


def _loudness_in(said: str, what: str) -> float:
    """The integrated loudness in the summary the ``ebur128`` meter wrote at its end."""
    found = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", said[said.rfind("Summary:") :])
    if "Summary:" not in said or not found:
        raise ToolError(f"ffmpeg did not meter the loudness while {what}.", "Check ffmpeg.")
    return max(-70.0, float(found.group(1)))  # silence: -70, and no gain is right


def _ffmpeg(inputs: list[str], outputs: list[str], what: str, stdin: bytes | None = None) -> bytes:
    cmd = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    if stdin is not None:
        cmd.remove("-nostdin")
    proc = subprocess.run(
        cmd + inputs + outputs, input=stdin, capture_output=True, timeout=900, check=False
    )
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.decode(errors="replace").strip().splitlines()[-3:])
        raise ToolError(f"ffmpeg failed while {what}: {tail}", "Check the input file.")
    return proc.stdout
