"""Romanisation: BGN/PCGN for Russian, the 2010 national system for Ukrainian."""

from __future__ import annotations

import pytest

from tolmach.analysis.translit import romanise


@pytest.mark.parametrize(
    ("source", "latin"),
    [
        ("Владимир Владимирович Путин", "Vladimir Vladimirovich Putin"),
        ("Ельцин", "Yeltsin"),  # е at the start of a word
        ("Андреевич", "Andreyevich"),  # е after a vowel
        ("Ерёмин", "Yeremin"),  # ё after a consonant is e
        ("Подъячев", "Podyachev"),  # ъ dropped, я after it
        ("Щукин из Хабаровска", "Shchukin iz Khabarovska"),
        ("Удмуртская Республика", "Udmurtskaya Respublika"),
        ("Цыганков", "Tsygankov"),
        ("Шойгу", "Shoygu"),
        ("СВО", "SVO"),
    ],
)
def test_russian(source: str, latin: str) -> None:
    assert romanise(source, "ru") == latin


@pytest.mark.parametrize(
    ("source", "latin"),
    [
        ("Олександр Сирський", "Oleksandr Syrskyi"),
        ("Зеленський", "Zelenskyi"),
        ("Запоріжжя", "Zaporizhzhia"),
        ("Згурський", "Zghurskyi"),  # зг is zgh
        ("Юрій Єрмак", "Yurii Yermak"),  # initial ю, є; final й is i
        ("Їжакевич", "Yizhakevych"),
        ("Ілля", "Illia"),
        ("Гаврилюк", "Havryliuk"),  # г is h, ю after a consonant is iu
        ("Слов'янськ", "Sloviansk"),  # apostrophe dropped
        ("Ґудзь", "Gudz"),
    ],
)
def test_ukrainian(source: str, latin: str) -> None:
    assert romanise(source, "uk") == latin


def test_non_cyrillic_is_kept() -> None:
    assert romanise("96-го полка (№3)", "ru") == "96-go polka (№3)"
