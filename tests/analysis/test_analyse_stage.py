"""The analyse stage on timed speech transcripts, and bad input: empty, another language,
10,000 sentences, text with no claims. Clear results, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

from tolmach.config import Settings
from tolmach.models import EnglishSegment, Segment, Transcript, Translation
from tolmach.pipeline import analyse
from tolmach.pipeline.context import ItemInfo, StageContext, json_bytes
from tolmach.pipeline.text_item import transcript_of
from tolmach.store.blobs import BlobStore

SPEECH = (
    "Мы, военнослужащие 96-го полка.",
    "С декабря нам не дают отпуск, нам не хватает",
    "воды и одежды.",
)
ENGLISH = (
    "We, servicemen of the 96th Regiment.",
    "Since December we get no leave, we lack",
    "water and clothing.",
)


def _ctx(
    settings: Settings,
    blobs: BlobStore,
    tmp: Path,
    transcript: Transcript,
    translation: Translation | None,
) -> StageContext:
    inputs = {"transcript.json": blobs.put_bytes(json_bytes(transcript.to_dict()))[0]}
    if translation is not None:
        inputs["translation.json"] = blobs.put_bytes(json_bytes(translation.to_dict()))[0]
    item = ItemInfo("item1", "0" * 64, "mp4", "video", 10.0, {})
    return StageContext(item, settings, blobs, inputs, tmp)


def _speech(texts: tuple[str, ...], language: str = "ru") -> Transcript:
    segs = tuple(Segment(i + 10, i * 2.0, i * 2.0 + 1.5, t) for i, t in enumerate(texts))
    return Transcript(language, 0.99, segs, duration=10.0)


def test_claims_carry_times_and_english_of_their_segments(
    settings: Settings, blobs: BlobStore, tmp_path: Path
) -> None:
    transcript = _speech(SPEECH)
    pairs = zip(transcript.segments, ENGLISH, strict=True)
    segments = tuple(EnglishSegment(s.id, s.start, s.end, e) for s, e in pairs)
    english = Translation("ru", segments, "fake", "fake-mt")
    result = analyse.run(_ctx(settings, blobs, tmp_path, transcript, english))
    data = json.loads(result.files["analysis.json"])  # type: ignore[arg-type]
    assert data["schema"] == "tolmach.analysis/1" and data["note"] == ""
    by_topic = {c["topic"]: c for c in data["claims"]}
    assert {"leave", "water", "clothing"} <= set(by_topic)
    water = by_topic["water"]
    # the clause runs over two segments: its times and English span both
    assert water["segments"] == [11, 12]
    assert (water["t_start"], water["t_end"]) == (2.0, 5.5)
    assert water["english"] == "Since December we get no leave, we lack water and clothing."
    assert by_topic["leave"]["segments"] == [11]
    unit = next(e for e in data["entities"] if e["kind"] == "unit")
    assert (unit["english"], unit["segments"], unit["t_start"]) == ("96th Regiment", [10], 0.0)
    assert result.summary["claims"] == len(data["claims"])


def test_empty_transcript(settings: Settings, blobs: BlobStore, tmp_path: Path) -> None:
    result = analyse.run(_ctx(settings, blobs, tmp_path, _speech(()), None))
    data = json.loads(result.files["analysis.json"])  # type: ignore[arg-type]
    assert data["claims"] == [] and data["entities"] == []
    assert "empty" in data["note"]


def test_another_language(settings: Settings, blobs: BlobStore, tmp_path: Path) -> None:
    transcript = _speech(("We have no water and no food.",), language="en")
    data = json.loads(
        analyse.run(_ctx(settings, blobs, tmp_path, transcript, None)).files["analysis.json"]
    )  # type: ignore[arg-type]
    assert data["claims"] == [] and "'en' is not analysed" in data["note"]


def test_russian_text_labelled_ukrainian_does_not_crash() -> None:
    data = analyse.analyse(transcript_of("Нам не хватает воды и одежды.", "uk"), None, timed=False)
    assert "water" in [c["topic"] for c in data["claims"]]  # lemmas by the wrong dictionary


def test_no_claims() -> None:
    data = analyse.analyse(transcript_of("Привет. Сегодня тепло. Пока.", "ru"), None, timed=False)
    assert data["claims"] == [] and "No claims" in data["note"]


def test_ten_thousand_sentences() -> None:
    sentences = [
        "Нам не хватает воды.",
        "Сегодня был обычный день.",
        "Мы из 96-го полка.",
        "Командир нас не слушает.",
    ]
    text = " ".join(sentences[i % 4] for i in range(10_000))
    transcript = transcript_of(text, "ru")
    assert len(transcript.segments) == 10_000
    data = analyse.analyse(transcript, None, timed=False)
    assert sum(c["topic"] == "water" for c in data["claims"]) == 2_500
    assert sum(e["kind"] == "unit" for e in data["entities"]) == 2_500
    assert data["claims"][-1]["segments"] == [9_999]


def test_the_learned_models_are_a_setting_and_recorded_as_the_engine(
    settings: Settings, blobs: BlobStore, tmp_path: Path
) -> None:
    # the rules call the last clause an affirmation; the stance model, in this grievance, a
    # complaint (tests/analysis/test_learned.py)
    transcript = _speech(
        (
            "Обращаемся к президенту. Зарплату не платят третий месяц. Воды не хватает.",
            "Раненых после перевязки сразу отправляют обратно на позиции.",
        )
    )
    runs = {}
    for on in (True, False):
        s = settings.model_copy(update={"analysis_models": on})
        runs[on] = analyse.run(_ctx(s, blobs, tmp_path, transcript, None))
    stances = {
        on: {c["topic"]: c["stance"] for c in json.loads(r.files["analysis.json"])["claims"]}  # type: ignore[arg-type]
        for on, r in runs.items()
    }
    assert stances[True]["medical"] == "complaint" and stances[False]["medical"] == "affirmation"
    assert runs[False].engine == "rules+natasha+e5"
    engine = runs[True].engine.split("+models:")
    assert engine[0] == "rules+natasha+e5" and len(engine[1]) == 12
