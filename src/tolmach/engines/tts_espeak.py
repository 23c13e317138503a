"""espeak-ng as a voice-over engine: robotic, but a Debian package that is always there.

Text goes in on stdin (never as an argument, so it cannot be read as an option) and a WAV
comes back on stdout.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np

from tolmach.engines.tts import Samples
from tolmach.errors import EngineError, ModelError, ToolError


class EspeakEngine:
    """espeak-ng with one voice (``en-us`` unless told otherwise)."""

    engine = "espeak"

    def __init__(self, voice: str = "en-us") -> None:
        found = shutil.which("espeak-ng")
        if not found:
            raise ToolError(
                "espeak-ng is not installed.",
                "Install it with `apt-get install espeak-ng` (or run `make setup`).",
            )
        self._exe = found
        self.voice = voice
        probe = self._run("test")
        self.sample_rate = probe[0]

    def speak(self, text: str, steady: bool = False) -> Samples:
        """espeak-ng says the same text the same way every time: ``steady`` changes nothing."""
        if not text.strip():
            return np.zeros(0, dtype=np.float32)
        return self._run(text)[1]

    def _run(self, text: str) -> tuple[int, Samples]:
        proc = subprocess.run(
            [self._exe, "-v", self.voice, "--stdin", "--stdout"],
            input=text.encode(),
            capture_output=True,
            timeout=120 + len(text) / 10,
            check=False,
        )
        if proc.returncode != 0 or not proc.stdout:
            reason = proc.stderr.decode(errors="replace").strip() or "no audio"
            if "voice" in reason.lower():
                raise ModelError(
                    f"espeak-ng has no voice {self.voice!r} ({reason}).",
                    "Set voice_model to an espeak-ng voice (`espeak-ng --voices=en`) or leave "
                    "it empty for en-us.",
                )
            raise EngineError(f"espeak-ng failed: {reason}.", "Check the espeak-ng install.")
        with wave.open(io.BytesIO(_fix_sizes(proc.stdout)), "rb") as w:
            rate = w.getframerate()
            raw = w.readframes(w.getnframes())
        return rate, (np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0)


def _fix_sizes(data: bytes) -> bytes:
    """espeak-ng writes a streamed WAV with unknown (0xFFFFFFFF) sizes; set the real ones."""
    if data[:4] != b"RIFF" or data.find(b"data") < 0:
        raise EngineError("espeak-ng wrote no WAV.", "Check the espeak-ng install.")
    at = data.find(b"data")
    body = len(data) - at - 8
    fixed = bytearray(data)
    fixed[4:8] = (len(data) - 8).to_bytes(4, "little")
    fixed[at + 4 : at + 8] = body.to_bytes(4, "little")
    return bytes(fixed)
