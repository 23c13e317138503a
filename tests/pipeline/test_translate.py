"""Translate stage with a fake engine: 1:1 alignment, context, glossary, flags, empty input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tolmach.config import Settings
from tolmach.engines.fake import FakeTranslator
from tolmach.models import Segment, Transcript, Translation
from tolmach.pipeline import translate
from tolmach.pipeline.context import ItemInfo, StageContext, json_bytes
from tolmach.store.blobs import BlobStore

SOURCES = (
    "Мы, военнослужащие 96-го полка.",
    "С декабря нам не дают отпуск.",
    "Обещанные выплаты не заплатили.",
    "Нам не хватает воды.",
)


def _ctx(settings: Settings, blobs: BlobStore, transcript: Transcript, tmp: Path) -> StageContext:
    sha, _ = blobs.put_bytes(json_bytes(transcript.to_dict()))
    item = ItemInfo("item1", "0" * 64, "mp4", "video", 10.0, {})
    return StageContext(item, settings, blobs, {"transcript.json": sha}, tmp)


def _transcript(texts: tuple[str, ...] = SOURCES, language: str = "ru") -> Transcript:
    segs = tuple(Segment(i + 10, i * 2.0, i * 2.0 + 1.5, t) for i, t in enumerate(texts))
    return Transcript(language, 0.99, segs, duration=10.0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTranslator:
    engine = FakeTranslator(
        {
            SOURCES[0]: "We, servicemen of the 10th regiment.",
            SOURCES[1]: "We have had no leave since December.",
            SOURCES[2]: "We have had no leave since December.",
            SOURCES[3]: "",
        }
    )
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)
    return engine


def test_stage_is_one_to_one_with_context_and_flags(
    settings: Settings, blobs: BlobStore, tmp_path: Path, fake: FakeTranslator
) -> None:
    progress: list[tuple[float, float]] = []
    ctx = _ctx(settings, blobs, _transcript(), tmp_path)
    ctx.on_progress = lambda done, total: progress.append((done, total))
    result = translate.run(ctx)

    out = Translation.from_dict(json.loads(result.files["translation.json"]))  # type: ignore[arg-type]
    src = _transcript().segments
    assert [(s.id, s.start, s.end) for s in out.segments] == [(s.id, s.start, s.end) for s in src]
    assert out.label.startswith("machine translation, unreviewed")
    assert out.source_language == "ru" and out.engine == "fake" and out.model == "fake-mt"

    # Context: mt_context (2) neighbours each side, never the segment itself.
    second = fake.requests[1]
    assert second.text == SOURCES[1]
    assert second.before == (SOURCES[0],) and second.after == SOURCES[2:4]
    assert fake.requests[0].before == () and fake.requests[3].after == ()
    assert (second.start, second.end) == (2.0, 3.5)
    # Glossary entries that match are passed along.
    assert fake.requests[0].glossary == {
        "военнослужащие": "servicemen",
        "полк": "regiment",
    }
    assert fake.requests[1].glossary == {"отпуск": "leave"}

    flags = [s.flags for s in out.segments]
    assert "numbers" in flags[0]
    assert "repeated" in flags[2]
    assert flags[3] == ("empty",)
    assert "glossary" in flags[2]  # "выплаты" -> payments is missing
    assert result.summary == {
        "segments": 4,
        "flags": {"empty": 1, "numbers": 1, "repeated": 1, "glossary": 1},
    }
    assert progress[-1] == (4, 4)
    assert result.model is not None and result.model.name == "fake-mt"


def test_context_zero_passes_no_neighbours(
    tmp_path: Path, blobs: BlobStore, fake: FakeTranslator
) -> None:
    settings = Settings(data_dir=tmp_path / "d", operator="t", mt_context=0)
    translate.run(_ctx(settings, blobs, _transcript(), tmp_path))
    assert all(r.before == () and r.after == () for r in fake.requests)


def test_custom_glossary(tmp_path: Path, blobs: BlobStore, fake: FakeTranslator) -> None:
    tsv = tmp_path / "g.tsv"
    tsv.write_text("# ours\nвода\tdrinking water\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "d", operator="t", glossary=tsv)
    result = translate.run(_ctx(settings, blobs, _transcript(), tmp_path))
    assert [r.glossary for r in fake.requests] == [{}, {}, {}, {"вода": "drinking water"}]
    assert result.summary["segments"] == 4


def test_no_speech_loads_no_engine(
    settings: Settings, blobs: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no engine should be loaded for an empty transcript")

    monkeypatch.setattr(translate, "make_translator", refuse)
    result = translate.run(_ctx(settings, blobs, _transcript(()), tmp_path))
    out = Translation.from_dict(json.loads(result.files["translation.json"]))  # type: ignore[arg-type]
    assert out.segments == () and result.summary == {"segments": 0, "flags": {}}


def test_llama_output_is_labelled_draft() -> None:
    assert translate.label_for("llama") == "machine translation, unreviewed (draft)"
    assert translate.label_for("openai") == "machine translation, unreviewed"
