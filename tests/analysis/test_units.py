"""Military units, ranks, dates and durations by rule, in Russian and Ukrainian."""

from __future__ import annotations

import pytest

from tolmach.analysis.entities import find_dates
from tolmach.analysis.units import find_ranks, find_units, ordinal


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Мы, военнослужащие 96-го полка", ["96th Regiment"]),
        ("96-й полк", ["96th Regiment"]),
        ("бійці 96-го полку", ["96th Regiment"]),
        ("служу в 96-м полку", ["96th Regiment"]),
        ("155-й отдельной бригады морской пехоты", ["155th Separate Marine Brigade"]),
        ("47-ї окремої механізованої бригади", ["47th Separate Mechanised Brigade"]),
        ("з 47-ю бригадою", ["47th Brigade"]),
        ("3-я ОШБр", ["3rd Separate Assault Brigade"]),
        ("96 мсп", ["96th Motor Rifle Regiment"]),
        (
            "3-го батальона 1-й гв. омсбр",
            ["3rd Battalion", "1st Guards Separate Motor Rifle Brigade"],
        ),
        ("в 1-й роті 2-го батальйону", ["1st Company", "2nd Battalion"]),
        ("2-я общевойсковая армия", ["2nd Combined Arms Army"]),
        ("59-я гв. мсд", ["59th Guards Motor Rifle Division"]),
        ("22-го армейского корпуса", []),  # unknown adjective: not guessed
        ("из 2 роты", []),  # a count, not the 2nd Company
        ("всего 5 полков", []),
        ("полковник сказал", []),
    ],
)
def test_units(text: str, english: list[str]) -> None:
    assert [u.english for u in find_units(text)] == english


def test_unit_span_is_the_phrase() -> None:
    text = "Мы, военнослужащие 96-го полка, мобилизованные"
    (unit,) = find_units(text)
    assert text[unit.start : unit.end] == "96-го полка" == unit.text


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 96, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "96th", "101st",
        "111th",
    ]  # fmt: skip


def test_ranks() -> None:
    text = "старший лейтенант Иванов, полковник Петров, молодший сержант, капітан, рядовой"
    assert [r.english for r in find_ranks(text)] == [
        "Senior Lieutenant", "Colonel", "Junior Sergeant", "Captain", "Private"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("находимся в зоне СВО с декабря", ["since December"]),
        ("з грудня на позиціях", ["since December"]),
        ("с 5 октября 2022 года", ["since 5 October 2022"]),
        ("в январе нас отправили", ["in January"]),
        ("у березні", ["in March"]),
        ("уже три месяца без ротации", ["3 months"]),
        ("понад 5 місяців", ["over 5 months"]),
        ("больше года", []),  # no number: left alone
        ("з 2023 року", ["since 2023"]),
        ("нам обещали маю", []),
    ],
)
def test_dates(text: str, english: list[str]) -> None:
    assert [d.english for d in find_dates(text)] == english
