"""Glossary loading and matching (inflected forms, acronyms, bad files) and prompt building."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.engines import mt_prompt
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import InputError, NotFoundError
from tolmach.glossary import english_present, load, parse


def test_default_glossary_matches_inflected_forms() -> None:
    g = load(None)
    assert len(g) >= 30
    assert g.matches("Мы, мобилизованные 96-го полка")["полк"] == "regiment"
    assert "мобилизованный" in g.matches("мобилизованных отправили")
    assert g.matches("Верховному главнокомандующему") == {
        "Верховный главнокомандующий": "Supreme Commander-in-Chief"
    }
    assert "СВО" in g.matches("на СВО с весны")
    assert g.matches("Ми, військовослужбовці ЗСУ")["ЗСУ"] == "Armed Forces of Ukraine (ZSU)"
    assert "рота" in g.matches("нашей роты")


def test_no_false_matches() -> None:
    g = load(None)
    assert g.matches("у меня болит рот") == {}  # "рот" (mouth) is not "рота"
    assert g.matches("это своё дело") == {}  # "сво" inside a word, lower case
    assert g.matches("полковник пришёл") == {}  # colonel is not regiment
    assert g.matches("") == {}


def test_spans_prefer_longer_terms() -> None:
    g = parse("полк\tregiment\nВерховный главнокомандующий\tSupreme Commander-in-Chief\n")
    text = "Верховному главнокомандующему от полка"
    spans = g.spans(text)
    assert [e for _, _, e in spans] == ["Supreme Commander-in-Chief", "regiment"]
    assert text[spans[1][0] : spans[1][1]] == "полка"


def test_bad_lines_name_their_number(tmp_path: Path) -> None:
    bad = tmp_path / "g.tsv"
    bad.write_text("# comment\nполк\tregiment\nбатальон battalion\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        load(bad)
    bad.write_text("полк\t\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        load(bad)
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        load(bad)
    with pytest.raises(NotFoundError):
        load(tmp_path / "missing.tsv")


def test_english_present_is_tolerant() -> None:
    assert english_present("servicemen", "a serviceman of the unit")
    assert english_present("mobilised", "mobilized men")
    assert english_present("special military operation (SMO)", "in the SMO zone")
    assert not english_present("regiment", "our unit")


def test_completion_prompt_layout() -> None:
    req = TranslationRequest(
        "Нам не хватает воды.",
        "ru",
        before=("Мы стоим здесь.",),
        after=("Помогите.",),
        glossary={"полк": "regiment"},
    )
    prompt = mt_prompt.completion_prompt(req)
    assert prompt.startswith(mt_prompt.prefix("ru"))  # the cached part comes first
    tail = prompt[len(mt_prompt.prefix("ru")) :]
    assert tail == (
        "<context> Мы стоим здесь. | Помогите.\n<terms> полк = regiment\n"
        "<ru> Нам не хватает воды.\n<en>"
    )
    bare = mt_prompt.completion_prompt(TranslationRequest("Привіт  \n світ", "uk"))
    assert bare.endswith("<uk> Привіт світ\n<en>") and "<context>" not in bare.split("\n\n")[-1]
    assert "Ukrainian" in mt_prompt.prefix("uk") and "<uk>" in mt_prompt.prefix("uk")


def test_chat_prompt_has_rules_glossary_and_context() -> None:
    req = TranslationRequest("Текст.", "ru", before=("До.",), glossary={"СВО": "SMO"})
    system = mt_prompt.system_prompt(req)
    assert "Russian" in system and "СВО = SMO" in system and "number" in system
    assert mt_prompt.user_message(req) == "Context before: До.\nSegment to translate:\nТекст."


def test_loop_trimming_and_placeholders() -> None:
    assert mt_prompt.trim_loop("We want to go home home home home") == "We want to go home"
    assert mt_prompt.trim_loop("no pay, no pay, no pay, no pay") == "no pay,"
    assert mt_prompt.trim_loop("We have no water.") == "We have no water."
    text, mapping = mt_prompt.protect("Мы из полка.", [(6, 11, "regiment")])
    assert text == "Мы из ⟦1⟧." and mapping == {1: "regiment"}
    assert mt_prompt.restore("We are from the ⟦ 1 ⟧.", mapping) == "We are from the regiment."
    assert mt_prompt.max_tokens("x" * 10) < mt_prompt.max_tokens("x" * 100) <= 400


def test_enforce_glossary_swaps_one_intruder() -> None:
    known = {"regiment", "brigade", "battalion", "leave", "Supreme Commander-in-Chief"}
    fix = mt_prompt.enforce_glossary
    assert fix("Servicemen of the 96th Brigade.", {"полк": "regiment"}, known) == (
        "Servicemen of the 96th Regiment."
    )
    assert fix("Of the regiment.", {"полк": "regiment"}, known) == "Of the regiment."
    # Two candidates: ambiguous, left alone for the glossary flag.
    two = "The brigade and the battalion."
    assert fix(two, {"полк": "regiment"}, known) == two
    assert fix("No unit named.", {"полк": "regiment"}, known) == "No unit named."


def test_echo_detection_and_retry_prompt() -> None:
    assert mt_prompt.cyrillic_share("«Ты русская?» — «Да».") > 0.9
    assert mt_prompt.cyrillic_share('"Are you Russian?" "Yes."') == 0.0
    retry = mt_prompt.labelled_prompt(TranslationRequest("«Вы русский?» — «Да».", "ru"))
    assert retry.endswith("Russian: «Вы русский?» — «Да».\nEnglish:")
