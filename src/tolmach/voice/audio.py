"""Audio for the voice-over: WAV in and out, tempo, ducking the original, loudness (EBU R128).

Samples are float32 numpy arrays; ffmpeg does what it does best (decoding, resampling, the
``atempo`` time stretch, ``loudnorm``) through pipes, and the mixing is plain arithmetic.

Ducking is volume automation, not a compressor: tolmach knows exactly when the voice speaks,
so the original is lowered by ``DUCK_DB`` over those spans (with short ramps) and left as it is
elsewhere. The original is never removed: the soldier's own voice stays audible under the
English, which is what a viewer needs to trust a voice-over.

Loudness is two-pass ``loudnorm``: a measuring pass, then a linear gain to the target with the
measured values (falling back to ffmpeg's dynamic mode only where a linear gain would clip).
"""

from __future__ import annotations

import json
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
TRUE_PEAK = -1.5
LRA = 11.0


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


def decode(path: Path, rate: int = RATE, channels: int = 1, stream: str = "0:a:0") -> Samples:
    """An audio stream as float32 at ``rate`` (frames x channels when channels > 1)."""
    raw = _ffmpeg(
        ["-i", safe_path(path), "-map", stream, "-ac", str(channels), "-ar", str(rate)],
        ["-f", "f32le", "-"],
        "decoding audio",
    )
    data = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    return data.reshape(-1, channels) if channels > 1 else data


def stretch(samples: Samples, rate: int, tempo: float) -> Samples:
    """The same speech ``tempo`` times faster, pitch unchanged (ffmpeg ``atempo``)."""
    if abs(tempo - 1.0) < 0.005 or len(samples) == 0:
        return samples
    raw = _ffmpeg(
        [
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "-",
            "-filter:a",
            f"atempo={tempo:.4f}",
        ],
        ["-filter:a", f"atempo={tempo:.4f}", "-f", "f32le", "-"],
        "changing the voice's tempo",
        stdin=samples.astype("<f4").tobytes(),
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def duck(original: Samples, spans: list[tuple[float, float]], rate: int = RATE) -> Samples:
    """``original`` lowered by DUCK_DB during each (start, end) span, with RAMP_S ramps."""
    gain = np.ones(len(original), dtype=np.float32)
    low = np.float32(10 ** (DUCK_DB / 20))
    ramp = max(1, int(RAMP_S * rate))
    for start, end in spans:
        a, b = int(start * rate), int(end * rate)
        lo, hi = max(0, a - ramp), min(len(gain), b + ramp)
        if lo >= hi:
            continue
        pos = np.arange(lo, hi)
        # 1 outside, `low` inside, linear over the ramp before a and after b
        depth = np.clip(np.minimum((pos - (a - ramp)) / ramp, ((b + ramp) - pos) / ramp), 0, 1)
        gain[lo:hi] = np.minimum(gain[lo:hi], 1 - depth * (1 - low))
    return original * (gain[:, None] if original.ndim == 2 else gain)


def normalise(source: Path, dest: Path, target: float, channels: int) -> float:
    """``source`` at ``target`` LUFS integrated into ``dest`` (48 kHz WAV); the measured input."""
    base = f"loudnorm=I={target}:TP={TRUE_PEAK}:LRA={LRA}"
    measured = measure(source, base)
    second = (
        f"{base}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true"
    )
    _ffmpeg(
        ["-i", safe_path(source), "-filter:a", f"{second},aresample={RATE}"],
        ["-ac", str(channels), "-c:a", "pcm_s16le", safe_path(dest)],
        "normalising loudness",
    )
    return float(measured["input_i"])


def measure(source: Path, loudnorm: str) -> dict[str, str]:
    """loudnorm's first pass: the input's loudness figures."""
    proc = subprocess.run(
        [
            *[tool("ffmpeg"), "-nostdin", "-hide_banner", "-i", safe_path(source)],
            *["-filter:a", f"{loudnorm}:print_format=json", "-f", "null", "-"],
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", proc.stderr)
    if proc.returncode != 0 or not found:
        raise ToolError("ffmpeg could not measure the loudness.", "Check the ffmpeg install.")
    result: dict[str, str] = json.loads(found.group(0))
    if result["input_i"] in ("-inf", "inf"):  # silence: no gain is right
        result.update(input_i="-70", input_tp="-70", input_lra="0", input_thresh="-80")
    return result


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
