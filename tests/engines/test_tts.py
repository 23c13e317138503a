"""The real speech engines: Piper with the bundled voice, and espeak-ng."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tolmach.config import Settings
from tolmach.engines.tts import load_tts, piper_paths
from tolmach.errors import ModelError


@pytest.mark.slow
def test_piper_speaks_with_the_bundled_voice(tmp_path: Path) -> None:
    engine = load_tts(Settings(data_dir=tmp_path))
    assert (engine.engine, engine.voice, engine.sample_rate) == ("piper", "en_US-joe-medium", 22050)
    samples = engine.speak("This English voice is AI-generated.")
    seconds = len(samples) / engine.sample_rate
    assert 1.2 < seconds < 5.0
    assert samples.dtype == np.float32 and 0.3 < float(np.abs(samples).max()) <= 1.0
    assert len(engine.speak("   ")) == 0
    steady = [engine.speak("This English voice is AI-generated.", steady=True) for _ in (1, 2)]
    assert np.array_equal(*steady)  # the spoken disclosure is the same sound every time


def test_the_bundled_voice_files_are_installed() -> None:
    model, config = piper_paths("")
    assert model.name == "en_US-joe-medium.onnx" and model.stat().st_size > 50_000_000
    assert config.is_file()


def test_espeak_speaks(tmp_path: Path) -> None:
    engine = load_tts(Settings(data_dir=tmp_path, voice_engine="espeak"))
    assert (engine.engine, engine.voice) == ("espeak", "en-us")
    longer = engine.speak("Ninety-sixth regiment, one thousand two hundred men.")
    short = engine.speak("Yes.")
    assert len(longer) > 3 * len(short) > 0
    assert float(np.abs(longer).max()) > 0.1


def test_a_missing_voice_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "en_GB-alan-low.onnx"
    with pytest.raises(ModelError) as caught:
        load_tts(Settings(data_dir=tmp_path, voice_model=str(missing)))
    assert str(missing) in caught.value.message
    assert "voice_model" in caught.value.hint and "espeak" in caught.value.hint


def test_a_damaged_voice_file_is_a_model_error(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    model.with_name("broken.onnx.json").write_text(Path(piper_paths("")[1]).read_text())
    with pytest.raises(ModelError, match=r"broken\.onnx could not be loaded"):
        load_tts(Settings(data_dir=tmp_path, voice_model=str(model)))


def test_an_unknown_espeak_voice_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no voice 'xx-nope'"):
        load_tts(Settings(data_dir=tmp_path, voice_engine="espeak", voice_model="xx-nope"))
