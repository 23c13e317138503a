"""Fidelity flags: each fires on a bad pair and stays quiet on good ones, real Tatoeba included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.pipeline.fidelity import (
    FLAGS,
    count,
    english_numbers,
    flags,
    looping,
    source_numbers,
)

GOOD = [
    ("Нам не хватает воды.", "We do not have enough water."),
    (
        "Мы, военнослужащие 96-го полка, обращаемся к вам.",
        "We, servicemen of the 96th Regiment, appeal to you.",
    ),
    ("Нам должны 10 000 рублей за 3 месяца.", "We are owed 10,000 roubles for three months."),
    ("Прошло 1,5 года.", "1.5 years have passed."),
    ("У меня два брата.", "I have 2 brothers."),
]


@pytest.mark.parametrize(("source", "english"), GOOD)
def test_good_pairs_have_no_flags(source: str, english: str) -> None:
    assert flags(source, english, ["Something else entirely."]) == ()


def test_empty() -> None:
    assert flags("Нам не хватает воды.", "  ", []) == ("empty",)
    assert flags("", "", []) == ()


def test_numbers_missing_changed_and_added() -> None:
    assert "numbers" in flags("Мы из 96-го полка.", "We are from the 10th regiment.", [])
    assert "numbers" in flags("Мы из 96-й бригады.", "We are from the brigade.", [])
    assert "numbers" not in flags("Мы из 96-й бригады.", "We are from the 96th brigade.", [])
    # A number copied from nowhere (a model repeating its examples).
    assert "numbers" in flags("Мы из ЗСУ.", "We are from the 24th Brigade.", [])


def test_number_parsing() -> None:
    assert source_numbers("96-го, 10 000 и 1,5, 2023 году") == ["96", "10000", "1.5", "2023"]
    assert {"96", "10000", "3", "2"} <= english_numbers("96th, 10,000, three, second")


def test_repeated_only_when_sources_differ() -> None:
    prev = ["We have no water."]
    assert "repeated" in flags("У нас нет еды.", "We have no water.", prev)
    same_source = flags(
        "У нас нет воды.", "We have no water.", prev, previous_source="У нас нет воды."
    )
    assert "repeated" not in same_source
    assert "repeated" not in flags("У нас нет еды.", "We have no food.", prev)


def test_looping() -> None:
    assert looping("We are here, we are here, we are here, we are here.")
    assert looping("no no no no")
    assert looping("we want to go home, they said we want to go home, so we want to go home now")
    assert not looping("We have no water, no food and no leave.")
    assert "looping" in flags("Нам не платят.", "They do not pay us, pay us, pay us, pay us.", [])


def test_length() -> None:
    src = "Нам не хватает воды, еды и медикаментов уже третий месяц подряд."
    assert "length" in flags(src, "No.", [])
    assert "length" in flags(src, "We lack water. " * 12, [])
    assert "length" not in flags("Да.", "Yes, indeed, that is absolutely right.", [])


def test_glossary_flag() -> None:
    gl = {"полк": "regiment", "СВО": "special military operation (SMO)"}
    src = "Мы из полка, воюем на СВО."
    assert "glossary" in flags(src, "We are from the unit, fighting in the war.", [], gl)
    assert "glossary" not in flags(src, "We are from the regiment, fighting in the SMO.", [], gl)
    assert "glossary" not in flags(
        "Мы мобилизованные.", "We are mobilized men.", [], {"мобилизованный": "mobilised"}
    )


def test_count_orders_flags() -> None:
    assert count([("numbers",), (), ("length", "numbers")]) == {"numbers": 2, "length": 1}
    assert set(FLAGS) == {
        "empty", "numbers", "repeated", "looping", "length", "glossary", "names"
    }  # fmt: skip


def test_length_bounds_hold_on_human_translations(shared_data: Path) -> None:
    """The length bounds were tuned on these pairs: human translations rarely trip them."""
    base = shared_data / "mt" / "tatoeba"
    for folder, ext in (("eng-rus", "rus"), ("eng-ukr", "ukr")):
        src = (base / folder / f"tatoeba-test-v2021-08-07.{ext}").read_text().splitlines()[:3000]
        eng = (base / folder / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()[:3000]
        tripped = sum("length" in flags(s, e, []) for s, e in zip(src, eng, strict=True))
        looped = sum("looping" in flags(s, e, []) for s, e in zip(src, eng, strict=True))
        assert tripped / len(src) < 0.01
        # Tatoeba's tongue-twisters ("Can-can can-can can can ...") are the only loops there.
        assert looped <= 2
