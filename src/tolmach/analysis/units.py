"""Military units, ranks, dates and durations in Russian and Ukrainian, by rules.

natasha does not tag units, so they are found here: a number with an ordinal ending ("96-го",
"96-й", "47-ї") or a bare number before an abbreviation ("96 мсп"), then known adjectives,
then the unit noun in any case ("полка", "полку", "бригади", "батальйону") or an abbreviation
("ОМСБр", "ОШБр"). Each becomes one English name: "96-го полка", "96-й полк" and "96-го
полку" are all "96th Regiment"; "155-й отдельной бригады морской пехоты" is "155th Separate
Marine Brigade".

    [u.english for u in find_units("бойцы 96-го полку та 3-ї ОШБр")]
    # ['96th Regiment', '3rd Separate Assault Brigade']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_L = r"[а-яёіїєґ'’ʼ-]"
NOUNS = (
    (r"полк(?:а|у|е|ом|и|ов|ів)?", "Regiment"),
    (r"бригад(?:а|ы|и|е|і|у|ой|ою)", "Brigade"),
    (r"батальй?он(?:а|у|е|і|ом|ы|и)?", "Battalion"),
    (r"дивизион(?:а|у|е|ом)?|дивізіон(?:у|і|ом)?", "Battalion"),
    (r"рот(?:а|ы|и|е|і|у|ой|ою)", "Company"),
    (r"взвод(?:а|у|е|і|ом)?", "Platoon"),
    (r"дивизи(?:я|и|ю|ей)|дивізі(?:я|ї|ю|єю)", "Division"),
    (r"корпус(?:а|у|е|і|ом)?", "Corps"),
    (r"арми(?:я|и|ю|ей)|армі(?:я|ї|ю|єю)", "Army"),
    (r"отряд(?:а|у|е|ом)?|заго?н(?:у|і|ом)?", "Detachment"),
)
ABBREVIATIONS = {
    "омсбр": "Separate Motor Rifle Brigade",
    "омсб": "Separate Motor Rifle Battalion",
    "мсп": "Motor Rifle Regiment",
    "мсд": "Motor Rifle Division",
    "мсбр": "Motor Rifle Brigade",
    "омбр": "Separate Mechanised Brigade",
    "ompbr": "Separate Motorised Infantry Brigade",
    "омпбр": "Separate Motorised Infantry Brigade",
    "ошбр": "Separate Assault Brigade",
    "одшбр": "Separate Air Assault Brigade",
    "дшбр": "Air Assault Brigade",
    "обрмп": "Separate Marine Brigade",
    "обртро": "Territorial Defence Brigade",
    "дшд": "Air Assault Division",
    "дшп": "Air Assault Regiment",
    "вдд": "Airborne Division",
    "общевойсковой армии": "Combined Arms Army",
    "оа": "Combined Arms Army",
    "ова": "Combined Arms Army",
    "ошб": "Separate Assault Battalion",
    "ОБ".lower(): "Separate Battalion",
}
ADJECTIVES = (
    ("гвард", "Guards"),
    ("отдельн", "Separate"),
    ("окрем", "Separate"),
    ("горно-штурмов", "Mountain Assault"),
    ("десантно-штурмов", "Air Assault"),
    ("десантно-штурмов", "Air Assault"),
    ("штурмов", "Assault"),
    ("мотострелк", "Motor Rifle"),
    ("мотопехот", "Motorised Infantry"),
    ("мотопіхот", "Motorised Infantry"),
    ("механизирован", "Mechanised"),
    ("механізован", "Mechanised"),
    ("танков", "Tank"),
    ("артиллерийск", "Artillery"),
    ("артилерійськ", "Artillery"),
    ("разведывательн", "Reconnaissance"),
    ("розвідувальн", "Reconnaissance"),
    ("воздушно-десантн", "Airborne"),
    ("стрелков", "Rifle"),
    ("єгерськ", "Jaeger"),
    ("егерск", "Jaeger"),
    ("президентськ", "Presidential"),
    ("зенитн", "Anti-Aircraft"),
    ("зенітн", "Anti-Aircraft"),
    ("общевойсков", "Combined Arms"),
    ("загальновійськов", "Combined Arms"),
)
AFTER = (
    (r"морской пехоты|морської піхоти", "Marine"),
    (r"территориальной обороны|територіальної оборони|тро", "Territorial Defence"),
    (r"национальной гвардии|національної гвардії", "National Guard"),
)

_ORD = r"(?:-?\s?(?:го|й|я|ая|ой|ий|ого|ому|ом|ої|ій|а|і|ї|му|м|ю|е|ую))"
_NOUN = "|".join(f"(?:{p})" for p, _ in NOUNS)
_ABBR = "|".join(sorted((re.escape(a) for a in ABBREVIATIONS if " " not in a), key=len)[::-1])
UNIT = re.compile(
    rf"(?<![\w-])(?P<num>\d{{1,4}})(?P<ord>{_ORD})?\s+(?P<adj>(?:{_L}+\s+){{0,3}}?)"
    rf"(?:(?P<noun>{_NOUN})(?:\s+(?P<after>{'|'.join(p for p, _ in AFTER)}))?"
    rf"|(?P<gv>гв\.?\s*)?(?P<abbr>{_ABBR}))(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    text: str
    english: str
    normal: str = ""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _adjectives(words: str) -> list[str]:
    out: list[str] = []
    for word in words.lower().split():
        for stem, english in ADJECTIVES:
            if word.startswith(stem) and english not in out:
                out.append(english)
                break
        else:
            return []  # an unknown word between number and noun: not a unit phrase
    return out


def find_units(text: str) -> list[Found]:
    """Every unit phrase in ``text`` with its English name."""
    out: list[Found] = []
    for m in UNIT.finditer(text):
        adjs = _adjectives(m.group("adj") or "")
        if m.group("adj") and not adjs:
            continue
        num = int(m.group("num"))
        if m.group("noun"):
            if not m.group("ord") and not adjs:
                continue  # "2 роты" is two companies, not the 2nd Company
            noun = next(e for p, e in NOUNS if re.fullmatch(p, m.group("noun"), re.IGNORECASE))
            after = m.group("after")
            extra = [e for p, e in AFTER if after and re.fullmatch(p, after, re.IGNORECASE)]
            parts = [*adjs, *extra, noun]
        else:
            parts = [*adjs, ABBREVIATIONS[m.group("abbr").lower()]]
            if m.group("gv") and "Guards" not in parts:
                parts.insert(0, "Guards")
        english = " ".join([ordinal(num), *dict.fromkeys(" ".join(parts).split())])
        out.append(Found(m.start(), m.end(), m.group(), english))
    return out


RANKS = (
    (r"генерал-майор\w*", "Major General"),
    (r"генерал-лейтенант\w*", "Lieutenant General"),
    (r"генерал-полковник\w*", "Colonel General"),
    (r"генерал\w*", "General"),
    (r"подполковник\w*|підполковник\w*", "Lieutenant Colonel"),
    (r"полковник\w*", "Colonel"),
    (r"майор\w*", "Major"),
    (r"капитан\w*|капітан\w*", "Captain"),
    (r"(?:старш\w+|старш\w+)\s+лейтенант\w*", "Senior Lieutenant"),
    (r"(?:младш\w+|молодш\w+)\s+лейтенант\w*", "Junior Lieutenant"),
    (r"лейтенант\w*", "Lieutenant"),
    (r"прапорщик\w*", "Warrant Officer"),
    (r"старшин\w*", "Sergeant Major"),
    (r"(?:старш\w+)\s+сержант\w*", "Senior Sergeant"),
    (r"(?:младш\w+|молодш\w+)\s+сержант\w*", "Junior Sergeant"),
    (r"штаб-сержант\w*", "Staff Sergeant"),
    (r"головн\w+\s+сержант\w*", "Chief Sergeant"),
    (r"сержант\w*", "Sergeant"),
    (r"ефрейтор\w*|єфрейтор\w*", "Lance Corporal"),
    (r"рядов(?:ой|ого|ому|ым|ые|ых)", "Private"),
    (r"старш\w+\s+солдат\w*", "Senior Private"),
)
RANK = re.compile("|".join(f"(?<![\\w-])(?:{p})(?![\\w-])" for p, _ in RANKS), re.IGNORECASE)


def find_ranks(text: str) -> list[Found]:
    out: list[Found] = []
    for m in RANK.finditer(text):
        english = next(e for p, e in RANKS if re.fullmatch(p, m.group(), re.IGNORECASE))
        out.append(Found(m.start(), m.end(), m.group(), english))
    return out
