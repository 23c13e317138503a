"""The ``names`` fidelity flag: a person, place or unit of the source missing or changed in
the English is flagged on its segment; human translations rarely trip it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.pipeline.fidelity import flags, names_missing

SOURCE = "Мы, военнослужащие 96-го полка, мобилизованные из Удмуртской Республики."


@pytest.mark.parametrize(
    ("source", "english"),
    [
        (SOURCE, "We, servicemen of the 96th Regiment, mobilised from the Udmurt Republic."),
        (SOURCE, "We, soldiers of the 96th regiment mobilised from Udmurtia."),
        (
            "Обращение к Верховному главнокомандующему Владимиру Владимировичу Путину.",
            "An appeal to the Supreme Commander-in-Chief Vladimir Vladimirovich Putin.",
        ),
        ("Зеленський приїхав до Запоріжжя.", "Zelensky came to Zaporizhzhia."),
        ("Том и Мэри живут в Киеве.", "Tom and Mary live in Kyiv."),
        ("Нам не хватает воды.", "We lack water."),
    ],
)
def test_names_kept(source: str, english: str) -> None:
    assert names_missing(source, english) == []
    assert "names" not in flags(source, english, [])


def test_name_dropped_or_changed_is_flagged() -> None:
    assert names_missing(SOURCE, "We, soldiers of the 96th brigade, mobilised from Bashkiria.") == [
        "Udmurtia",
        "96th Regiment",
    ]
    dropped = "An appeal to the Supreme Commander-in-Chief."
    source = "Обращение к Верховному главнокомандующему Владимиру Владимировичу Путину."
    assert "Putin" in names_missing(source, dropped)
    assert "names" in flags(source, dropped, [])
    # the wrong number of the regiment is the numbers flag's; the type is kept here
    wrong = flags(SOURCE, "We, servicemen of the 10th Regiment, mobilised from Udmurtia.", [])
    assert "numbers" in wrong and "names" not in wrong


def test_human_translations_rarely_flagged(shared_data: Path) -> None:
    base = shared_data / "mt" / "tatoeba"
    for folder, ext in (("eng-rus", "rus"), ("eng-ukr", "ukr")):
        src = (base / folder / f"tatoeba-test-v2021-08-07.{ext}").read_text().splitlines()[:3000]
        eng = (base / folder / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()[:3000]
        tripped = sum(bool(names_missing(s, e)) for s, e in zip(src, eng, strict=True))
        assert tripped / len(src) < 0.025, folder
