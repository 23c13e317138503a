"""Claims: a statement split into sentences (razdel) and clauses, each with a topic and a stance.

A clause is a claim when it names a topic (lemma keywords from ``data/claim-topics.toml``)
or carries a stance marker (``stance``). The topic is the one with the heaviest keywords in
the clause; a clause that lists several topics joined by "и", "та", "або" or a comma ("не
хватает воды и одежды") gives one claim per topic. A clause with a marker but no keyword gets
the topic whose description or example sentences are nearest by multilingual-e5 embedding,
when clearly nearer than any other topic's, and otherwise the general topic. Last, a topic
model learned from labelled claims (``learned``) places what neither could and overrules
a single topic when it is sure, and a stance model learned the same way reads each clause
with the rule's stance and the statement's lean.

    found = extract("Нам не хватает воды и одежды.", "ru")
    [(c.topic, c.stance) for c in found]   # [('water', 'complaint'), ('clothing', 'complaint')]
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tolmach.analysis import learned, lexicon, polarity, stance, topics

# How far the nearest topic (by its description and example sentences) must be ahead of the
# next for the embedding fallback to assign it. On the 189 labelled quotes of the pairs the
# rules were written against (dev to heldout-5), the nearest topic was right for 59% of all
# quotes and for 93% of the 75 quotes at least 0.02 ahead; the nearest description alone at
# cosine 0.84 or more (the rule before) was right for 78% of 63 quotes.
EMBED_GAP = 0.02
# Margin (complaint minus affirmation similarity to the stance examples) that overrides a
# topic's default stance for a clause no stance rule fires on, or a weak affirmation.
STANCE_MARGIN = 0.01
# Added to that margin for a statement that is otherwise a grievance, taken off for one that
# apologises, explains, denies or affirms (on the labelled pairs the rules were written
# against: 16 of the 18 plain claims right, 13 of 18 without the lean).
STATEMENT_LEAN = 0.015
DEFAULT_EVIDENCE = "(no marker)"
_BUT = re.compile(r"\b(но|але|однако|проте|зато|зате)\b", re.IGNORECASE)
_BE = {"есть", "є", "имеется", "имеются", "маємо", "имеем"}
MORALE = "morale"
# an explanation by the heat of the moment is about the speakers' state of mind
_HEAT = re.compile(
    r"горяч|гарячк|гаряч|необдуман|влиянием (момента|минуты)|впливом (моменту|хвилини)|"
    r"эмоци|емоці|нерв|тяж[её]л\w* момент|важк\w* момент|паник|панік|згарячу|зопалу|"
    r"в сердцах|отчаяни|розпач|утом|втом|усталост",
    re.IGNORECASE,
)
MAX_CLAUSES = 200_000  # more is not a statement: clauses past this are left out

_SPLIT = re.compile(r",\s+(?:но|а|однако|зато|але|проте|однак)\s+|;\s+|\s+[—–]\s+|,\s+")
# No split before an alternative, a conjunction, a relative clause, or a negated predicate
# that continues the subject ("Машины, которые нам дали, не на ходу").
_NO_SPLIT_BEFORE = re.compile(
    r"(?:либо|или|ни|то|або|чи|ні|ані|и|і|та|котор\w*|які?|який|яку|що|чтобы|щоб|не)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    id: int
    start: int  # character offsets in the analysed text
    end: int
    text: str
    topic: str
    stance: str
    blanket: bool = False
    evidence: str = ""  # the words the stance rule fired on
    method: str = "keywords"  # or "embedding", "none"
    also: tuple[str, ...] = ()  # other topics the clause names
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["also"] = list(self.also)
        d.update(d.pop("extra"))
        return d


def clauses(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Candidate clauses of one sentence: (start, end, split at a mere comma or dash)."""
    pieces: list[tuple[int, int, bool]] = []
    at, weak = start, False
    for m in _SPLIT.finditer(text, start, end):
        if not _NO_SPLIT_BEFORE.match(text, m.end()):
            pieces.append((at, m.start(), weak))
            at, weak = m.end(), m.group().strip() in {",", "—", "–"}
    pieces.append((at, end, weak))
    return [(s, e, w) for s, e, w in pieces if s < e]


def _useful(text: str, language: str, taxonomy: topics.Taxonomy) -> bool:
    return bool(taxonomy.hits(lexicon.tokens(text, language))) or stance.has_marker(text, language)


def _clause_like(text: str, language: str) -> bool:
    """A stance marker or a verb: a piece after a comma that can stand as its own claim."""
    if stance.has_marker(text, language):
        return True
    if any(t.text.lower() in _BE for t in lexicon.tokens(text, language)):
        return True  # "Вода есть": "есть" reads as the infinitive "to eat"
    if polarity.words(text, language):
        return True  # "питание нормальное": a stance word is a predicate
    return any(
        {"VERB", "PRTS"} & set(str(morph_tag).replace(" ", ",").split(","))
        for tok in lexicon.tokens(text, language)
        for morph_tag in [lexicon.morph(language).parse(tok.text.lower())[0].tag]
    )


def _merge(
    text: str, pieces: list[tuple[int, int, bool]], language: str, tax: topics.Taxonomy
) -> list[tuple[int, int]]:
    """Join pieces back where a split would leave a part that is no claim of its own."""
    out: list[tuple[int, int]] = []
    for s, e, weak in pieces:
        piece = text[s:e]
        left = text[out[-1][0] : out[-1][1]] if out else ""
        if out and (
            not _useful(piece, language, tax)
            or (weak and not _clause_like(piece, language))
            or not _useful(left, language, tax)
            or _halves(left, piece, language, tax)
            or (weak and not _clause_like(left, language))  # "Водой, питанием, ... обеспечены"
        ):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _extended(claim: Claim, text: str, end: int, kind: str) -> Claim:
    c = claim
    evidence = c.evidence if kind == c.stance else "the reason given"
    return Claim(c.id, c.start, end, text[c.start : end], c.topic, kind, c.blanket,
                 evidence, c.method, c.also, c.extra)  # fmt: skip


def _halves(left: str, right: str, language: str, tax: topics.Taxonomy) -> bool:
    """A topic with no stance on the left, a stance with no topic on the right of a split
    ("Питна вода привозна, її дають по пів літра", "Дрони в них скрізь, а своїх
    немає"): one claim, not two."""
    left_topic = bool(tax.hits(lexicon.tokens(left, language)))
    right_topic = bool(topics.clause_topics(right, language, tax)[0])
    return left_topic and not right_topic and not stance.has_marker(left, language)


def _lean(found: list[Claim], unsure: set[int]) -> float:
    """What the rest of the statement says: a grievance (more complaints than anything else)
    leans its plain statements towards complaint, a recantation (an apology, an
    explanation, a denial, or more affirmations) towards affirmation."""
    said = [c.stance for i, c in enumerate(found) if i not in unsure]
    complaints = said.count("complaint")
    if any(k in said for k in ("retraction", "explanation", "denial")):
        return -STATEMENT_LEAN
    others = said.count("affirmation")
    return STATEMENT_LEAN if complaints > others else -STATEMENT_LEAN if others else 0.0


def _stance_by_examples(found: list[Claim], weak: set[int]) -> list[Claim]:
    """Plain statements (no stance rule fired) and weak affirmations (only "выдали" or a good
    word: "Рации выдали гражданские"): the nearer side of the stance examples by embedding,
    shifted by the statement's lean, decides when the margin is clear; otherwise the topic's
    default or the weak rule's stance stays."""
    plain = {i for i, c in enumerate(found) if c.evidence == DEFAULT_EVIDENCE}
    unsure = sorted(plain | weak)
    if not unsure:
        return found
    texts = list(dict.fromkeys(found[i].text for i in unsure))
    margins = dict(zip(texts, polarity.example_margins(texts), strict=True))
    lean = _lean(found, plain | weak)
    out = list(found)
    for i in unsure:
        c = found[i]
        margin = margins[c.text] + lean
        kind = (
            "complaint"
            if margin > STANCE_MARGIN
            else "affirmation"
            if margin < -STANCE_MARGIN
            else c.stance
        )
        extra = c.extra | {"stance_margin": round(margin, 3)}
        evidence = "" if i in plain else c.evidence
        out[i] = Claim(c.id, c.start, c.end, c.text, c.topic, kind, c.blanket, evidence,
                       c.method, c.also, extra)  # fmt: skip
    return out


def extract(
    text: str,
    language: str,
    taxonomy: topics.Taxonomy | None = None,
    models: learned.Models | Literal["shipped"] = "shipped",
) -> list[Claim]:
    """The claims of ``text`` (Russian or Ukrainian), in order of their position; ``models``
    learned.NONE leaves topics and stances to the rules alone."""
    tax = taxonomy or topics.load()
    found: list[Claim] = []
    weak: set[int] = set()  # positions in found of affirmations by a weak rule
    pending: list[tuple[int, int, str, bool, str]] = []  # clauses that need the embedding
    for s_start, s_end in lexicon.sentences(text):
        for s, e in _merge(text, clauses(text, s_start, s_end), language, tax):
            if len(found) + len(pending) >= MAX_CLAUSES:
                break
            piece = text[s:e].strip(" ,;—–")
            if not piece:
                continue
            s = text.index(piece, s)
            e = s + len(piece)
            main, others = topics.clause_topics(text[s:e], language, tax)
            specific = bool(main) and main != [topics.GENERAL]
            kind, blanket, evidence, unsure = stance.stance_of(
                piece, bool(main), language, specific
            )
            if not kind:
                continue
            if main and kind == "affirmation" and not evidence:
                kind = tax.topics[main[0]].stance  # a plain statement: the topic's default
                evidence = DEFAULT_EVIDENCE
            if kind == "explanation" and (MORALE in [*main, *others] or _HEAT.search(piece)):
                # why the video was made: the state of mind, not what upset it ("под
                # влиянием эмоций после гибели товарищей")
                main, others = [MORALE], [t for t in [*main, *others] if t != MORALE]
            before = found[-1] if found and found[-1].start >= s_start else None
            if kind == "explanation" and before and not _BUT.search(text, before.end, s):
                # the reason of a complaint is part of it ("Раненых не выносят, потому что
                # запрещено останавливаться"; "Раненые лежат сутками, потому что эвакуации
                # нет"), not an explanation of the video
                lacking = stance.COMPLAINT.search(piece.lower())
                plain = before.evidence == DEFAULT_EVIDENCE
                own = [t for t in main if t != before.topic]
                if own and lacking:  # "двое погибли, потому что раций нет": a claim of its own
                    kind, evidence = "complaint", lacking.group()
                elif before.stance == "complaint" or (plain and lacking):
                    found = [
                        _extended(c, text, e, "complaint" if plain else c.stance)
                        if c.start == before.start
                        else c
                        for c in found
                    ]
                    continue
            if not main and kind == "explanation" and before and before.topic != topics.GENERAL:
                # an explanation that names nothing is about what the clause before it named
                # ("Деньги пришли, задержка была из-за ошибки в документах")
                main = [before.topic]
            if not main and (blanket or kind in {"retraction", "explanation"}):
                main = [topics.GENERAL]  # about the statement itself, not one topic
            if not main:
                pending.append((s, e, kind, blanket, evidence))
                continue
            for topic in main:
                also = tuple(t for t in [*main, *others] if t != topic)
                if unsure:
                    weak.add(len(found))
                found.append(
                    Claim(0, s, e, piece, topic, kind, blanket, evidence, "keywords", also)
                )
    if pending:
        nearest = tax.nearest([text[s:e] for s, e, *_ in pending])
        for (s, e, kind, blanket, evidence), (topic, sim, gap) in zip(
            pending, nearest, strict=True
        ):
            near = gap >= EMBED_GAP and not blanket
            found.append(
                Claim(
                    0,
                    s,
                    e,
                    text[s:e],
                    topic if near else topics.GENERAL,
                    kind,
                    blanket,
                    evidence,
                    "embedding" if near else "none",
                    extra={"similarity": round(sim, 3), "ahead": round(gap, 3)},
                )
            )
    found = _stance_by_examples(found, weak)
    found = learned.apply(found, language, tax, learned.load() if models == "shipped" else models)
    found.sort(key=lambda c: (c.start, c.id))
    return [
        Claim(
            i + 1,
            c.start,
            c.end,
            c.text,
            c.topic,
            c.stance,
            c.blanket,
            c.evidence,
            c.method,
            c.also,
            c.extra,
        )
        for i, c in enumerate(found)
    ]
