"""Romanisation of Russian and Ukrainian names: an English spelling for every name found.

Russian follows BGN/PCGN (1947) without diacritics: е is "ye" at the start of a word and after
a vowel, ъ or ь, ё is "yo" in the same places and "e" after a consonant, ы is "y", ь and ъ are
dropped. Ukrainian follows the official national system of 2010 (Cabinet resolution 55), which
is also BGN/PCGN's for Ukrainian since 2019: г is "h", и is "y", і is "i", and є, ї, й, ю, я
are written "ye, yi, y, yu, ya" at the start of a word and "ie, i, i, iu, ia" elsewhere; "зг"
is "zgh"; the apostrophe is dropped.

    romanise("Владимир Путин", "ru")     # 'Vladimir Putin'
    romanise("Олександр Сирський", "uk")  # 'Oleksandr Syrskyi'
"""

from __future__ import annotations

_COMMON = {
    "а": "a",
    "б": "b",
    "в": "v",
    "д": "d",
    "ж": "zh",
    "з": "z",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
}

_RU = {
    **_COMMON,
    "г": "g",
    "е": "e",
    "ё": "e",
    "и": "i",
    "й": "y",
    "ъ": "",
    "ы": "y",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_RU_INITIAL = {"е": "ye", "ё": "yo"}
_RU_VOWELS = set("аеёиоуыэюяъь")

_UK = {
    **_COMMON,
    "г": "h",
    "ґ": "g",
    "е": "e",
    "є": "ie",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "ю": "iu",
    "я": "ia",
    "'": "",
    "’": "",
    "ʼ": "",
}
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def _is_word_start(text: str, i: int) -> bool:
    return i == 0 or (not text[i - 1].isalpha() and text[i - 1] not in "'’ʼ")


def _cased(latin: str, upper: bool, next_upper: bool) -> str:
    if not upper or not latin:
        return latin
    return latin.upper() if next_upper else latin[0].upper() + latin[1:]


def romanise(text: str, language: str) -> str:
    """``text`` in Latin letters; characters that are not Cyrillic are kept as they are."""
    uk = language == "uk"
    table = _UK if uk else _RU
    out: list[str] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low not in table:
            out.append(ch)
            continue
        start = _is_word_start(text, i)
        if uk:
            latin = _UK_INITIAL.get(low, table[low]) if start else table[low]
            if low == "г" and i > 0 and text[i - 1].lower() == "з":
                latin = "gh"
        else:
            after_vowel = i > 0 and text[i - 1].lower() in _RU_VOWELS
            latin = _RU_INITIAL.get(low, table[low]) if start or after_vowel else table[low]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        whole_upper = ch.isupper() and (nxt.isupper() or (not nxt.isalpha() and not start))
        out.append(_cased(latin, ch.isupper(), whole_upper and len(latin) > 1))
    return "".join(out)
