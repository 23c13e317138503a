"""Prompts shared by the translation engines: few-shot examples, chat instructions, placeholders.

The llama engine drives a small base (not instruction-tuned) model, so its prompt is a
completion: a one-line header, two dozen example pairs in a tagged format, then the segment:

    <context> previous segment | next segment      (only when there are neighbours)
    <terms> полк = regiment; СВО = special military operation (SMO)   (only on a match)
    <ru> Мы, военнослужащие 96-го полка, обращаемся ...
    <en>

The examples mix everyday sentences with soldiers' statements (leave, pay, water, regiments,
commanders) so the model sees both registers; Ukrainian segments get Ukrainian examples. The
fixed part comes first so llama.cpp reuses its evaluated prefix from one segment to the next.
After it come a few pairs retrieved for this segment from the bundled example bank
(``mt_examples``; setting ``mt_examples``), most similar last, in the same tagged format: they
show the model the words of the segment translated, which a fixed list cannot.
Tagged lines measured better than "Russian:/English:" labels and better than longer example
lists (see docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tolmach.engines.mt_base import TranslationRequest

LANGUAGE_NAMES = {"ru": "Russian", "uk": "Ukrainian"}

_EXAMPLES_RU = (
    ("Нам не хватает воды.", "We do not have enough water."),
    (
        "Мы, военнослужащие 37-й бригады, обращаемся к Верховному главнокомандующему.",
        "We, servicemen of the 37th Brigade, are appealing to the Supreme Commander-in-Chief.",
    ),
    (
        "С декабря нас ни разу не отпускали в отпуск.",
        "We have not been given any leave since December.",
    ),
    (
        "Обещанные выплаты нам так и не заплатили.",
        "The promised payments have never been paid to us.",
    ),
    ("Том сказал, что придёт завтра.", "Tom said he would come tomorrow."),
    ("Я не знаю, где она живёт.", "I don't know where she lives."),
    ("Командир отказался с нами разговаривать.", "The commander refused to talk to us."),
    (
        "Вчера было очень холодно, и мы весь день сидели дома.",
        "It was very cold yesterday, and we stayed at home all day.",
    ),
    ("Ты можешь мне помочь?", "Can you help me?"),
    ("У нас нет ни еды, ни медикаментов.", "We have neither food nor medicine."),
    ("Мэри купила две книги и красную ручку.", "Mary bought two books and a red pen."),
    (
        "Нас отправили на передовую без подготовки.",
        "We were sent to the front line without training.",
    ),
    ("Мне нравится читать перед сном.", "I like reading before bed."),
    ("Это была не моя идея.", "It wasn't my idea."),
    ("Где ты был вчера вечером?", "Where were you last night?"),
    ("Она всегда опаздывает на работу.", "She is always late for work."),
    ("Мы ждали автобус почти час.", "We waited for the bus for almost an hour."),
    ("Почему ты мне не позвонил?", "Why didn't you call me?"),
    ("Этот дом построили сто лет назад.", "This house was built a hundred years ago."),
    ("Не забудь закрыть окно.", "Don't forget to close the window."),
    ("Его брат работает врачом в больнице.", "His brother works as a doctor at a hospital."),
    ("Мне нужно купить хлеба и молока.", "I need to buy some bread and milk."),
    ("Кошка спит на диване.", "The cat is sleeping on the sofa."),
    ("Нас обманули.", "We were deceived."),
    ("«Ты готов?» — «Да, конечно».", '"Are you ready?" "Yes, of course."'),
)

_EXAMPLES_UK = (
    ("Нам не вистачає води.", "We do not have enough water."),
    (
        "Ми, військовослужбовці 24-ї бригади, звертаємося до командування.",
        "We, servicemen of the 24th Brigade, are appealing to the command.",
    ),
    (
        "З грудня нас жодного разу не відпускали у відпустку.",
        "We have not been given any leave since December.",
    ),
    (
        "Обіцяні виплати нам так і не заплатили.",
        "The promised payments have never been paid to us.",
    ),
    ("Том сказав, що прийде завтра.", "Tom said he would come tomorrow."),
    ("Я не знаю, де вона живе.", "I don't know where she lives."),
    ("Командир відмовився з нами розмовляти.", "The commander refused to talk to us."),
    (
        "Учора було дуже холодно, і ми весь день сиділи вдома.",
        "It was very cold yesterday, and we stayed at home all day.",
    ),
    ("Ти можеш мені допомогти?", "Can you help me?"),
    ("У нас немає ні їжі, ні ліків.", "We have neither food nor medicine."),
    ("Мері купила дві книжки та червону ручку.", "Mary bought two books and a red pen."),
    (
        "Нас відправили на передову без підготовки.",
        "We were sent to the front line without training.",
    ),
    ("Мені подобається читати перед сном.", "I like reading before bed."),
    ("Це була не моя ідея.", "It wasn't my idea."),
    ("Де ти був учора ввечері?", "Where were you last night?"),
    ("Вона завжди запізнюється на роботу.", "She is always late for work."),
    ("Ми чекали на автобус майже годину.", "We waited for the bus for almost an hour."),
    ("Чому ти мені не зателефонував?", "Why didn't you call me?"),
    ("Цей будинок збудували сто років тому.", "This house was built a hundred years ago."),
    ("Не забудь зачинити вікно.", "Don't forget to close the window."),
    ("Його брат працює лікарем у лікарні.", "His brother works as a doctor at a hospital."),
    ("Мені треба купити хліба й молока.", "I need to buy some bread and milk."),
    ("Кішка спить на дивані.", "The cat is sleeping on the sofa."),
    ("Нас обдурили.", "We were deceived."),
    ("«Ти готовий?» — «Так, звісно».", '"Are you ready?" "Yes, of course."'),
)

# Two examples that show the optional context and terms lines.
_WITH_CONTEXT = {
    "ru": (
        "Мы стоим здесь уже третий месяц. | Связи с командованием нет.",
        "полк = regiment",
        "Из нашего полка никого не ротируют.",
        "No one from our regiment is being rotated out.",
    ),
    "uk": (
        "Ми стоїмо тут уже третій місяць. | Зв'язку з командуванням немає.",
        "бригада = brigade",
        "З нашої бригади нікого не ротують.",
        "No one from our brigade is being rotated out.",
    ),
}

STOP = ("\n", "<ru>", "<uk>", "<en>", "<context>")


def _tag(language: str) -> str:
    return "uk" if language == "uk" else "ru"


def prefix(language: str) -> str:
    """The fixed part of the prompt for ``language`` (evaluated once and reused)."""
    tag = _tag(language)
    examples = _EXAMPLES_UK if tag == "uk" else _EXAMPLES_RU
    name = LANGUAGE_NAMES[tag]
    lines = [f"Accurate English translations of {name} sentences.\n\n"]
    lines += [f"<{tag}> {src}\n<en> {en}\n\n" for src, en in examples]
    ctx, terms, src, en = _WITH_CONTEXT[tag]
    lines.append(f"<context> {ctx}\n<terms> {terms}\n<{tag}> {src}\n<en> {en}\n\n")
    return "".join(lines)


def context_line(request: TranslationRequest) -> str:
    neighbours = [s.strip() for s in (*request.before, *request.after) if s.strip()]
    return " | ".join(neighbours)


def terms_line(glossary: Mapping[str, str]) -> str:
    return "; ".join(f"{term} = {english}" for term, english in glossary.items())


def example_lines(language: str, examples: Sequence[tuple[str, str]]) -> str:
    """Retrieved example pairs in the prompt's format, the most similar (first) placed last."""
    tag = _tag(language)
    return "".join(f"<{tag}> {one_line(s)}\n<en> {one_line(e)}\n\n" for s, e in examples[::-1])


def completion_prompt(request: TranslationRequest, examples: Sequence[tuple[str, str]] = ()) -> str:
    """The full completion prompt for one segment.

    The fixed prefix, then ``examples`` (pairs retrieved for this segment, most similar
    first; see ``mt_examples``), then context, terms and the text.
    """
    tag = _tag(request.source_language)
    parts = [prefix(request.source_language), example_lines(request.source_language, examples)]
    if ctx := context_line(request):
        parts.append(f"<context> {ctx}\n")
    if request.glossary:
        parts.append(f"<terms> {terms_line(request.glossary)}\n")
    parts.append(f"<{tag}> {one_line(request.text)}\n<en>")
    return "".join(parts)


def labelled_prompt(request: TranslationRequest, retrieved: Sequence[tuple[str, str]] = ()) -> str:
    """A plainer "Russian:/English:" prompt, the retry when the tagged one echoes the source."""
    tag = _tag(request.source_language)
    name = LANGUAGE_NAMES[tag]
    examples = _EXAMPLES_UK if tag == "uk" else _EXAMPLES_RU
    pairs = [*examples, *((one_line(s), one_line(e)) for s, e in retrieved[::-1])]
    lines = [f"{name}: {src}\nEnglish: {en}\n\n" for src, en in pairs]
    return "".join(lines) + f"{name}: {one_line(request.text)}\nEnglish:"


def cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters) if letters else 0.0


def one_line(text: str) -> str:
    return " ".join(text.split())


def system_prompt(request: TranslationRequest) -> str:
    """Instructions for an instruction-tuned chat model (the openai engine)."""
    name = LANGUAGE_NAMES.get(request.source_language, request.source_language)
    rules = [
        f"You translate {name} statements from war videos into English for journalists.",
        "Translate only the segment you are given; the context is there to help you "
        "understand it and must not be translated.",
        "Be faithful: keep every number, name, unit, date and negation; do not add, soften, "
        "summarise or explain. If a word is unclear, translate it literally.",
        "Answer with the English translation only, on one line.",
    ]
    if request.glossary:
        rules.append("Use these fixed translations: " + terms_line(request.glossary) + ".")
    return "\n".join(rules)


def user_message(request: TranslationRequest) -> str:
    parts = []
    if request.before:
        parts.append("Context before: " + " ".join(request.before))
    if request.after:
        parts.append("Context after: " + " ".join(request.after))
    parts.append("Segment to translate:\n" + request.text.strip())
    return "\n".join(parts)


def max_tokens(text: str) -> int:
    """A ceiling on generated tokens: English rarely needs twice the source's characters / 2."""
    return min(400, 16 + len(text))


def trim_loop(text: str) -> str:
    """Cut a run of words repeated three or more times in a row down to one occurrence."""
    words = text.split()
    for n in range(1, 9):
        i = 0
        while i + 3 * n <= len(words):
            unit = words[i : i + n]
            k = 1
            while words[i + k * n : i + (k + 1) * n] == unit:
                k += 1
            if k >= 3:
                return " ".join(words[: i + n])
            i += 1
    return text.strip()


PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")


def protect(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, dict[int, str]]:
    """Replace glossary spans by ⟦n⟧ placeholders; return the text and n -> English."""
    out, mapping, last = [], {}, 0
    for n, (start, end, english) in enumerate(spans, start=1):
        out.append(text[last:start] + f"⟦{n}⟧")
        mapping[n] = english
        last = end
    out.append(text[last:])
    return "".join(out), mapping


def restore(english: str, mapping: Mapping[int, str]) -> str:
    """Put the glossary English back where the placeholders survived (unknown ones dropped)."""
    return PLACEHOLDER.sub(lambda m: mapping.get(int(m.group(1)), ""), english).strip()


def enforce_glossary(english: str, matched: Mapping[str, str], known: set[str]) -> str:
    """Swap one intruding glossary word for the one the source asks for.

    A small model copies unit names from its examples ("brigade" for "полк"). When exactly one
    required single-word term is missing and exactly one other single-word glossary English
    (``known``) appears instead, the intruder is replaced; anything else is left for the
    ``glossary`` fidelity flag.
    """
    from tolmach.glossary import english_present

    wanted = {e for e in matched.values() if " " not in e}
    missing = [e for e in wanted if not english_present(e, english)]
    intruders = [
        k
        for k in known - wanted
        if " " not in k and re.search(rf"\b{re.escape(k)}\b", english, re.IGNORECASE)
    ]
    if len(missing) != 1 or len(intruders) != 1:
        return english

    def swap(m: re.Match[str]) -> str:
        return missing[0].capitalize() if m.group()[0].isupper() else missing[0]

    return re.sub(rf"\b{re.escape(intruders[0])}\b", swap, english, flags=re.IGNORECASE)
