"""Retraction views and link suggestions on plain analysis data (no store)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tolmach.analysis import retractions
from tolmach.analysis.links import ItemFacts, suggest
from tolmach.pipeline.analyse import analyse
from tolmach.pipeline.text_item import transcript_of

T0 = datetime(2026, 1, 10, 12, 0)


def _analysis(text: str, language: str = "ru") -> dict[str, Any]:
    return analyse(transcript_of(text, language), None, timed=False)


FIRST_UK = (
    "Ми, бійці 47-ї окремої механізованої бригади, звертаємося до командування. "
    "Нам не вистачає набоїв. Нам не виплатили бойові за два місяці. "
    "Командир погрожує нам покаранням."
)
SECOND_UK = "Перепрошуємо за попереднє відео. Набоїв нам вистачає. Претензій не маємо."


def test_retraction_groups_in_ukrainian() -> None:
    view = retractions.view(
        _analysis(FIRST_UK, "uk")["claims"], _analysis(SECOND_UK, "uk")["claims"]
    )
    groups = {g: [e["claim"]["topic"] for e in view[g]] for g in retractions.GROUPS}
    # "претензій не маємо" names no topic: it covers every complaint not retracted explicitly
    assert groups == {
        "retracted": ["equipment"],
        "blanket": ["pay", "threats"],
        "never_addressed": [],
    }
    assert view["context"][0]["stance"] == "retraction"


def test_a_later_complaint_retracts_nothing() -> None:
    first = _analysis("Нам не хватает воды.")
    later = _analysis("Нам по-прежнему не хватает воды.")
    view = retractions.view(first["claims"], later["claims"])
    assert retractions.counts(view) == {"retracted": 0, "blanket": 0, "never_addressed": 1}


def test_links_by_shared_unit_and_time() -> None:
    a = ItemFacts("a", T0, _analysis(FIRST_UK, "uk"))
    b = ItemFacts("b", T0 + timedelta(hours=5), _analysis(SECOND_UK + " Ми з 47-ї бригади.", "uk"))
    found = {(s.item_id, s.other_id, s.kind): s for s in suggest(b, a)}
    assert set(found) == {("b", "a", "same-unit"), ("b", "a", "follow-up"), ("b", "a", "retracts")}
    assert found[("b", "a", "same-unit")].detail["shared"]["unit"] == ["47th Brigade"]
    assert found[("b", "a", "follow-up")].detail["hours"] == 5.0
    assert all(s.detail["confirmed"] is False for s in found.values())
    assert found[("b", "a", "same-unit")].detail["basis"] == "named"


def test_no_links_between_unrelated_statements() -> None:
    a = ItemFacts("a", T0, _analysis("Мы из 96-го полка. Нам не хватает воды."))
    b = ItemFacts(
        "b", T0 + timedelta(hours=1), _analysis("Мы из 10-й бригады. Нам не дают отпуск.")
    )
    assert suggest(a, b) == []


def test_inferred_link_needs_apology_answers_and_time() -> None:
    first = _analysis("Мы из 96-го полка. Нам не хватает воды.")
    recant = _analysis("Извиняемся за предыдущее видео. Воды хватает, всё есть.")
    near = suggest(ItemFacts("a", T0, first), ItemFacts("b", T0 + timedelta(hours=2), recant))
    assert {s.kind for s in near} == {"same-unit", "follow-up", "retracts"}
    assert all(s.detail["basis"] == "inferred" for s in near)
    late = suggest(ItemFacts("a", T0, first), ItemFacts("b", T0 + timedelta(days=30), recant))
    assert late == []


def test_same_source_account_makes_a_follow_up() -> None:
    first = _analysis("Нам не хватает воды.")
    later = _analysis("Нам не дают отпуск.")
    a = ItemFacts("a", T0, first, account="channel-1")
    b = ItemFacts("b", T0 + timedelta(hours=3), later, account="channel-1")
    (link,) = suggest(a, b)
    assert (link.kind, link.detail["shared"]["account"]) == ("follow-up", ["channel-1"])
    other = ItemFacts("b", T0 + timedelta(hours=3), later, account="channel-2")
    assert suggest(a, other) == []


def test_blanket_naming_topics_covers_what_they_cover() -> None:
    first = _analysis(
        "Медицинской помощи нет. Нам не выдают зимние вещи. Командование скрывает потери."
    )
    later = _analysis("У нас нет претензий ни к командованию, ни к снабжению.")
    view = retractions.view(first["claims"], later["claims"])
    # supplies covers medical and clothing; the losses claim names the command
    assert sorted(e["claim"]["topic"] for e in view["blanket"]) == [
        "casualties",
        "clothing",
        "medical",
    ]
    assert view["never_addressed"] == []


def _groups(first: str, later: str, language: str = "ru") -> dict[str, list[str]]:
    view = retractions.view(
        _analysis(first, language)["claims"], _analysis(later, language)["claims"]
    )
    return {g: [e["claim"]["topic"] for e in view[g]] for g in retractions.GROUPS}


def test_withdrawing_the_appeal_covers_all_only_when_nothing_is_answered() -> None:
    first = "Нам не хватает воды. Зарплату не платят третий месяц."
    alone = _groups(first, "Мы отказываемся от своих слов.")
    assert alone == {"retracted": [], "blanket": ["water", "pay"], "never_addressed": []}
    # once the follow-up answers one complaint itself, the withdrawal covers none of the rest
    answered = _groups(first, "Мы отказываемся от своих слов. Вода есть.")
    assert answered == {"retracted": ["water"], "blanket": [], "never_addressed": ["pay"]}
    # an apology alone takes back nothing
    sorry = _groups(first, "Извиняемся за прошлое видео.")
    assert sorry["never_addressed"] == ["water", "pay"]


def test_a_reason_given_with_a_complaint_is_part_of_it() -> None:
    claims = _analysis("Раненых с поля боя не выносят, потому что запрещено останавливаться.")
    assert [(c["topic"], c["stance"]) for c in claims["claims"]] == [("medical", "complaint")]
    later = _analysis("Деньги пришли, задержка была из-за ошибки в документах.")
    assert [(c["topic"], c["stance"]) for c in later["claims"]] == [
        ("pay", "affirmation"),
        ("pay", "explanation"),
    ]


def test_all_is_well_with_one_named_thing_is_no_blanket() -> None:
    later = _analysis("С командиром взвода всё нормально.")["claims"]
    assert [(c["topic"], c["stance"], c["blanket"]) for c in later] == [
        ("command", "affirmation", False)
    ]
    assert _analysis("Всё нормально.")["claims"][0]["blanket"] is True
