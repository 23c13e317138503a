"""The ctranslate2 engine on a tiny Marian-style model built here (random weights, real
SentencePiece vocabularies trained on Tatoeba): it runs, returns text, is deterministic and
records the hash of model.bin. The output is gibberish by construction."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sentencepiece as spm
from ctranslate2.specs import transformer_spec

from tolmach.config import Settings
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import ConfigError, ModelError

D, FFN = 16, 32


def _train_spm(lines: list[str], prefix: Path) -> list[str]:
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(prefix),
        vocab_size=120,
        character_coverage=1.0,
        model_type="unigram",
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def _shape(name: str, vs: int, vt: int) -> tuple[int, ...]:
    if name.endswith(("gamma", "beta")):
        return (D,)
    if name == "encoder/embeddings_0/weight":
        return (vs, D)
    if name in ("decoder/embeddings/weight", "decoder/projection/weight"):
        return (vt, D)
    if name.endswith("self_attention/linear_0/weight"):
        return (3 * D, D)
    if name.endswith("/attention/linear_1/weight"):
        return (2 * D, D)
    if name.endswith("ffn/linear_0/weight"):
        return (FFN, D)
    if name.endswith("ffn/linear_1/weight"):
        return (D, FFN)
    return (D, D)


def _child(layer: Any, part: str) -> Any:
    """Spec scopes name list items "layer_0", "linear_1", "embeddings_0"."""
    if hasattr(layer, part):
        return getattr(layer, part)
    base, _, index = part.rpartition("_")
    return getattr(layer, base)[int(index)]


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    work = tmp_path_factory.mktemp("ct2")
    base = shared_data / "mt" / "tatoeba" / "eng-rus"
    ru = (base / "tatoeba-test-v2021-08-07.rus").read_text().splitlines()[1000:1400]
    en = (base / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()[1000:1400]
    src_vocab = _train_spm(ru, work / "source")
    tgt_vocab = _train_spm(en, work / "target")

    spec = transformer_spec.TransformerSpec.from_config((1, 1), num_heads=2)
    rng = np.random.default_rng(0)
    for name, value in spec.variables().items():
        if value is None:
            layer = spec
            *path, attr = name.split("/")
            for part in path:
                layer = _child(layer, part)
            shape = _shape(name, len(src_vocab), len(tgt_vocab))
            setattr(layer, attr, rng.normal(0, 0.2, shape).astype(np.float32))
    spec.register_source_vocabulary(src_vocab)
    spec.register_target_vocabulary(tgt_vocab)
    spec.validate()
    spec.optimize(quantization=None)
    folder = work / "tiny-marian-ru-en"
    folder.mkdir()
    spec.save(str(folder))
    (work / "source.model").rename(folder / "source.spm")
    (work / "target.model").rename(folder / "target.spm")
    return folder


def test_tiny_marian_runs(tiny_marian: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, mt_engine="ctranslate2", mt_ct2_path=str(tiny_marian))
    engine = make_translator(settings)
    req = TranslationRequest("Нам не хватает воды.", "ru", before=("Контекст.",))
    first = engine.translate(req)
    assert isinstance(first, str) and first
    assert engine.translate(req) == first
    assert engine.translate(TranslationRequest("", "ru")) == ""
    ref = engine.model_ref()
    digest = hashlib.sha256((tiny_marian / "model.bin").read_bytes()).hexdigest()
    assert ref.sha256 == digest and ref.name == "tiny-marian-ru-en"


def test_ct2_needs_a_folder_with_tokenizers(tiny_marian: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mt_ct2_path"):
        make_translator(Settings(data_dir=tmp_path, mt_engine="ctranslate2"))
    broken = tmp_path / "no-spm"
    broken.mkdir()
    (broken / "model.bin").write_bytes((tiny_marian / "model.bin").read_bytes())
    with pytest.raises(ModelError, match=r"source\.spm"):
        make_translator(
            Settings(data_dir=tmp_path, mt_engine="ctranslate2", mt_ct2_path=str(broken))
        )
    with pytest.raises(ModelError, match="does not exist"):
        make_translator(
            Settings(data_dir=tmp_path, mt_engine="ctranslate2", mt_ct2_path=str(tmp_path / "nope"))
        )
