"""Stance of a clause by Russian and Ukrainian rules: complaint, denial, affirmation,
explanation or retraction; and whether a denial is blanket ("претензий не имеем").

The rules look at the source text only, never at the English. They are tried in order, and
the first that fires decides: an apology or retraction, an explanation ("из-за", "тому що"),
a blanket denial, a specific denial ("никто не заставлял"), a mention of the previous video,
an explicit affirmation ("обеспечены полностью", "всего хватает"), a complaint (a lack, a
negated verb such as "не выплатили", "ни разу не", coercion, "за свои деньги"), something
handed over ("выдали"); otherwise a plain statement on a topic takes the topic's default
stance (see ``claims``).

    stance_of("Нам не хватает воды")                       # ('complaint', 'не хватает')
    stance_of("Мы обеспечены полностью")                   # ('affirmation', 'обеспечены полностью')
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files as package_files
from pathlib import Path

import numpy as np

from tolmach.analysis import lexicon

STANCES = ("complaint", "denial", "affirmation", "explanation", "retraction")


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


RETRACTION = _rx(
    r"\bизвин\w*",
    r"\bпрос\w* (у вас )?прощени\w*",
    r"\bвибач\w*",
    r"\bперепрош\w*",
    r"\bбер\w* (свои |свої )?слова назад",
    r"\bопроверг\w*",
    r"\bспростову\w*",
)
# Weaker: a mention of the earlier statement, after the explanation rules.
PREVIOUS = _rx(
    r"\b(предыдущ|прошл|прежн|вчерашн)\w* (видео|ролик\w*|обращени\w*)",
    r"\b(попередн|минул|вчорашн)\w* (відео|ролик\w*|звернен\w*)",
)
EXPLANATION = _rx(
    r"\bиз-за\b",
    r"\bпотому что\b",
    r"\bтак как\b",
    r"\bпоскольку\b",
    r"\bв связи с\b",
    r"\bпод влиянием\b",
    r"\bпод давлением\b",
    r"\b(видео|ролик|обращение) (было )?(снято|записано|снят|записан)\b",
    r"\b(відео|ролик|звернення) (було )?(знято|записано|знятий|записаний)\b",
    r"\b(по глупости|сгоряча|по дурости|з дурості|згарячу|спросонья)\b",
    r"\b(погорячил\w*|погарячкува\w*)",
    r"\b(в|у) (стресов\w*|емоційн\w*|нервов\w*|эмоциональн\w*) (стан\w*|состояни\w*)",
    r"\b(эмоци|емоці)\w*",
    r"\bпід тиском\b",
    r"\bна эмоциях\b",
    r"\bбыло (снято|записано)\b",
    r"\bчерез (те що|втом\w*|емоці\w*|моральн\w*|стрес\w*)",
    r"\bтому що\b",
    r"\bоскільки\b",
    r"\bпід впливом\b",
    r"\bна емоціях\b",
    r"\bбуло (знято|записано)\b",
)
_GRIEVANCE = r"(претензи\w*|претензі\w*|жалоб\w*|скарг\w*|нарікан\w*)"
BLANKET = _rx(
    rf"\b{_GRIEVANCE}(\s+[^\s.!?]+){{0,4}}? "
    r"(не име\w*|нет|не имеется|не ма\w*|нема\w*)",
    rf"\b(не имеем|нет|не маємо|немає|нема) (никаких |жодних )?{_GRIEVANCE}",
    r"\bвс[её] (хорошо|в порядке|нормально|отлично)",
    r"\b(усе|все) (добре|гаразд|нормально)",
    r"\bне соответству\w* действительност\w*",
    r"\bне відповіда\w* дійсност\w*",
    r"\b(неправда|ложь|брехня|фейк)\b",
    rf"\b(никаких|жодних|ніяких) {_GRIEVANCE}",
    r"\b(вопросов|питань) (нет|немає|нема|не имеем|не маємо)\b",
    r"\b(нет|немає|нема) (никаких |жодних )?(вопросов|питань)\b",
)
DENIAL = _rx(
    r"\bникто (нас |нам |на нас )?не "
    r"(заставлял|угрожал|принуждал|бил|избивал|давил|запугивал|обижал|издевал)\w*",
    r"\bніхто (нас |нам |на нас )?не "
    r"(змушував|погрожував|примушував|бив|тиснув|залякував|знущав)\w*",
    r"\bне (было|було) (никаких|жодних|никакого|жодного|ніяких) "
    r"(проблем|претензи|претензі|угроз|погроз|давлени|тиску|нарушени|порушен)\w*",
    r"\bникакого давления\b",
    r"\bжодного тиску\b",
)
AFFIRMATION = _rx(
    r"\bобеспечен\w* (полностью|всем|в полном)",
    r"\bполностью обеспечен\w*",
    r"\b(всего|всё|все|всем) (хватает|достаточно|есть)",
    r"\bесть вс[её]\b",
    r"\bзабезпечен\w* (повністю|усім|всім)",
    r"\bповністю забезпечен\w*",
    r"\b(усього|всього|усе|все) (вистачає|достатньо|є)\b",
    r"\b(в полном объ[её]ме|вовремя|у повному обсязі|вчасно)\b",
    r"(?<!не )(?<!ни )(?<!ні )\b(хватает|вистачає|достаточно|достатньо)\b",
)
# Weaker: something was handed over ("выдали") unless the clause also complains ("ржавые").
RECEIVED = _rx(
    r"(?<!не )\b(выдали|видали|привезли|підвезли|доставили|получили|отримали|евакуювали|"
    r"эвакуировали|выплатили|виплатили|вернули|повернули)\b",
    r"(?<!не )\b(работают|работает|працюють|працює)\b",
)
COMPLAINT = _rx(
    r"\bне хвата\w*",
    r"\bнехватк\w*",
    r"\bне вистача\w*",
    r"\bбраку\w*",
    r"\bнестач\w*",
    r"\bни разу не\b",
    r"\bні разу не\b",
    r"\bжодного разу не\b",
    r"\bни копейки\b",
    r"\bні копійки\b",
    r"\bнет\b",
    r"\bнема[єе]?\b",
    r"\bбез \w+",
    r"\bзаставля\w*",
    r"\bзаставил\w*",
    r"\bпринужда\w*",
    r"\bзмушу\w*",
    r"\bзмусил\w*",
    r"\bмеша\w*",
    r"\bзаважа\w*",
    r"\bвскрыт\w*",
    r"\bрозкрит\w*",
    r"\bза (свои|свой|свої|свій|власні|собственные) (деньги|сч[её]т|кошти|гроші|рахунок)",
    r"\bна (свои|свої|власні|собственные) (деньги|кошти|гроші)",
    r"\b(своими силами|власним коштом|власними силами|самотужки)",
    r"\b(купили|покупаем|купуємо|купили|вивозимо|вывозим|возим|возимо) (сами|самі)\b",
    r"\b(сами|самі) (купили|покупаем|купуємо|вивозимо|вывозим)\b",
    r"\bобеща\w*[^.!?]*,\s+а\s+",
    r"\bобіця\w*[^.!?]*,\s+а\s+",
    r"\b(игнориру\w*|ігнору\w*)",
    r"\b(ржав\w*|сломан\w*|неисправн\w*|испорчен\w*|зіпсован\w*|просроч\w*|прострочен\w*)",
    r"\b(закончил\w*|кончил\w*|закінчил\w*|пуст(ые|ая|ой)|порожн\w*|урезал\w*|урізал\w*)",
    r"\b(вскрыва\w*|розкрива\w*|с опозданием|із запізненням|через (месяц|місяць))",
    r"\b(хотя|хоча) (обещали|обіцяли)",
    r"\bраз (в|на) (\w+ )?(сутки|день|неделю|дня|дней|дні|днів|добу|тиждень)",
    r"\b(лишь|только|лише|тільки) через\b",
    r"\b(приходится|приходиться|доводиться|вынуждены|змушені|мусимо)\b",
    r",\s+а\s+(сейчас|зараз|теперь|тепер)\b",
    r"\b(вместо|замість)\b",
    r"\b(всего|лишь|только|лише|тільки|усього) по\b",
    r"\bпо (пол|пів)[\w-]*",
    r"\b(после|після) (\w+ )?(дн(я|ей|і|ів)|недел\w*|тижн\w*)\b",
    r"\b(до сих пор|досі|так и|так і) не\b",
    r"\bугрожа\w*",
    r"\bпогрожу\w*",
    r"\b(бросили|кинули|обманул\w*|обманыва\w*|обманю\w*)",
    r"\b(задержива\w*|затриму\w*|отказыва\w*|відмовля\w*)",
    r"\b(воруют|крадуть|отбира\w*|відбира\w*|забрал\w*|забрав\w*|отобрал\w*|відібрав\w*)",
    r"\b(плох\w*|погано|ужасн\w*|жахлив\w*|гнил\w*)",
    r"\b(голода\w*|голоду\w*|мерзн\w*|замерза\w*)",
    r"\bне \w+",
)


def stance_of(text: str, has_topic: bool = True) -> tuple[str, bool, str]:
    """(stance, blanket, evidence) for one clause; stance "" when nothing fires.

    ``has_topic``: whether the clause names a topic; a plain statement without a topic and
    without any marker is no claim at all.
    """
    low = text.lower().replace("ё", "е")
    for stance, rx in (("retraction", RETRACTION), ("explanation", EXPLANATION)):
        m = rx.search(low)
        if m:
            return stance, False, m.group()
    m = BLANKET.search(low)
    if m:
        return "denial", True, m.group()
    for stance, rx in (
        ("denial", DENIAL),
        ("retraction", PREVIOUS),
        ("affirmation", AFFIRMATION),
        ("complaint", COMPLAINT),
        ("affirmation", RECEIVED),
    ):
        m = rx.search(low)
        if m:
            return stance, False, m.group()
    return ("affirmation", False, "") if has_topic else ("", False, "")


def has_marker(text: str) -> bool:
    """Whether any stance rule fires on ``text`` (so a clause split there is worth keeping)."""
    return stance_of(text, has_topic=False)[0] != ""


EXAMPLES = Path(str(package_files("tolmach").joinpath("data", "stance-examples.tsv")))


@functools.cache
def _examples() -> tuple[lexicon.Vectors, tuple[str, ...]]:
    rows = [
        line.split("\t", 1)
        for line in EXAMPLES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return lexicon.embed([r[1] for r in rows]), tuple(r[0] for r in rows)


def example_margins(texts: list[str], k: int = 3) -> list[float]:
    """For each text: mean cosine to its k nearest complaint examples minus the same for
    affirmation examples (multilingual-e5); positive leans complaint."""
    vectors, labels = _examples()
    sims = lexicon.embed(texts) @ vectors.T
    is_complaint = np.array([label == "complaint" for label in labels])
    out: list[float] = []
    for row in sims:
        c = np.sort(row[is_complaint])[-k:].mean()
        a = np.sort(row[~is_complaint])[-k:].mean()
        out.append(float(c - a))
    return out
