"""Cues built from timed segments keep every rule, break at good points and keep names whole."""

from __future__ import annotations

import itertools
import random

import pytest

from tolmach.models import Cue, EnglishSegment, Segment, Word
from tolmach.subtitles.breaks import FORBIDDEN, break_cost, layout
from tolmach.subtitles.build import english_cues, source_cues
from tolmach.subtitles.check import check_cues
from tolmach.subtitles.formats import parse, to_srt, to_vtt

EN_WORDS = [
    "we",
    "were",
    "sent",
    "to",
    "the",
    "front",
    "without",
    "weapons",
    "and",
    "the",
    "commander",
    "said",
    "that",
    "everyone",
    "would",
    "get",
    "paid",
    "after",
    "the",
    "assault",
    "but",
    "nobody",
    "came",
    "back",
    "from",
    "the",
    "forest",
    "near",
    "the",
    "village",
]
RU_WORDS = [
    "нас",
    "отправили",
    "на",
    "фронт",
    "без",
    "оружия",
    "и",
    "командир",
    "сказал",
    "что",
    "всем",
    "заплатят",
    "после",
    "штурма",
    "но",
    "никто",
    "не",
    "вернулся",
    "из",
    "леса",
    "возле",
    "села",
    "под",
    "Бахмутом",
]
PROTECTED = ("Vladimir Putin", "not paid", "the 96th Regiment", "Владимир Путин", "не платили")


def timed(seg_id: int, start: float, text: str, cps: float, pause: float = 0.0) -> Segment:
    """A segment whose words are spoken at ``cps`` characters a second, pause after commas."""
    words, t = [], start
    for w in text.split():
        length = (len(w) + 1) / cps
        words.append(Word(round(t, 3), round(t + length * 0.85, 3), " " + w, 0.9))
        t += length + (pause if w.endswith(",") else 0.0)
    return Segment(seg_id, start, round(t, 3), text, tuple(words))


def sentence(rng: random.Random, vocab: list[str], n: int) -> str:
    words = [rng.choice(vocab) for _ in range(n)]
    for _ in range(n // 12):
        k = rng.randrange(len(words))
        words.insert(k, rng.choice(PROTECTED))
    for k in range(5, len(words), rng.randint(5, 11)):
        words[k] += rng.choice([",", ".", "", ""])
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def synthetic(seed: int) -> tuple[list[Segment], list[EnglishSegment]]:
    """Long sentences, fast speech, one-word segments and segments right after one another."""
    rng = random.Random(seed)
    source, english, t = [], [], rng.uniform(0, 2)
    for k in range(12):
        n = rng.choice([1, 1, 2, 4, 9, 18, 35, 60])
        cps = rng.choice([9.0, 14.0, 17.0, 21.0, 26.0])
        seg = timed(k, t, sentence(rng, RU_WORDS, n), cps, pause=rng.choice([0.0, 0.4]))
        source.append(seg)
        text = sentence(rng, EN_WORDS, max(1, round(n * rng.uniform(0.7, 1.4))))
        english.append(EnglishSegment(k, seg.start, seg.end, text))
        t = seg.end + rng.choice([0.0, 0.05, 0.3, 1.5])
    return source, english


def words_of(cues: list[Cue]) -> list[str]:
    return " ".join(c.text for c in cues).split()


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("fps", [25.0, 30000 / 1001])
def test_built_cues_keep_every_rule(seed: int, fps: float) -> None:
    source, english = synthetic(seed)
    for cues, segments in (
        (source_cues(source, fps), source),
        (english_cues(english, source, fps), english),
    ):
        assert check_cues(cues, fps) == []
        assert words_of(cues) == " ".join(s.text for s in segments).split()  # nothing lost
        assert [c.index for c in cues] == list(range(1, len(cues) + 1))


@pytest.mark.parametrize("seed", range(25))
def test_protected_phrases_are_never_split(seed: int) -> None:
    source, english = synthetic(seed)
    for cues in (source_cues(source), english_cues(english, source)):
        splits = [
            (a.split()[-1], b.split()[0]) for c in cues for a, b in itertools.pairwise(c.lines)
        ]
        splits += [
            (a.lines[-1].split()[-1], b.lines[0].split()[0]) for a, b in itertools.pairwise(cues)
        ]
        for left, right in splits:
            pair = f"{left} {right}"
            assert not any(pair in p for p in PROTECTED), pair


@pytest.mark.parametrize("seed", range(10))
def test_built_cues_survive_a_round_trip(seed: int) -> None:
    source, english = synthetic(seed)
    cues = english_cues(english, source)
    assert parse(to_srt(cues).encode(), "e.srt") == cues
    assert parse(to_vtt(cues).encode(), "e.vtt") == cues


def test_long_segment_splits_at_sentence_ends_and_commas() -> None:
    text = (
        "We held the line for three days. Then the shelling started again, "
        "and we lost contact with the 96th Regiment on the left flank."
    )
    cues = source_cues([timed(0, 1.0, text, 14.0)])
    assert [c.lines for c in cues] == [
        ("We held the line for three days.", "Then the shelling started again,"),
        ("and we lost contact", "with the 96th Regiment on the left flank."),
    ]


def test_sentence_end_inside_a_line_starts_a_new_cue() -> None:
    seg = Segment(0, 10.0, 16.0, "Мы были там. Потом нас отвели назад, к реке, и дали отдых.")
    cues = source_cues([seg])  # no word timings: timed by characters
    assert [c.lines for c in cues] == [
        ("Мы были там.",),
        ("Потом нас отвели назад,", "к реке, и дали отдых."),
    ]
    assert check_cues(cues) == []
    assert cues[0].start == 10.0 and cues[-1].end == 16.0


def test_russian_breaks_before_conjunctions_and_keeps_negation() -> None:
    text = "Нам обещали деньги за каждый месяц службы и нам не платили ни копейки с самого начала"
    cues = source_cues([timed(0, 0.0, text, 15.0)])
    assert check_cues(cues) == []
    lines = [line for c in cues for line in c.lines]
    assert not any(line.split()[-1] in {"не", "ни", "и", "с", "за"} for line in lines)
    assert any(line.startswith("и ") for line in lines)


def test_english_follows_pauses_in_the_source() -> None:
    """A long pause in the middle of the source speech is a pause in the English cues too."""
    first = timed(0, 0.0, "Мы шли всю ночь,", 14.0)
    second = timed(0, first.end + 4.0, "а утром нас накрыли артиллерией.", 14.0)
    src = Segment(0, 0.0, second.end, f"{first.text} {second.text}", first.words + second.words)
    eng = EnglishSegment(
        0, 0.0, second.end, "We walked all night, and in the morning artillery hit us."
    )
    cues = english_cues([eng], [src])
    assert [c.text for c in cues] == [
        "We walked all night,",
        "and in the morning artillery hit us.",
    ]
    assert cues[0].end <= first.end + 0.8
    assert cues[1].start >= second.start - 0.6


def test_english_cues_stay_near_their_segment() -> None:
    source, english = synthetic(3)
    slow = [
        EnglishSegment(s.id, s.start, s.end, s.text)
        for s in english
        if len(s.text) / max(s.end - s.start, 0.01) < 14
    ]
    for seg in slow:
        for cue in english_cues([seg], source):
            assert seg.start - 0.5 <= cue.start and cue.end <= max(seg.end, cue.start + 0.834) + 0.7


def test_very_short_segments_get_the_minimum_duration() -> None:
    segs = [timed(k, k * 0.5, word, 20.0) for k, word in enumerate(["Да.", "Нет.", "Да!", "Всё."])]
    cues = source_cues(segs)
    assert check_cues(cues) == []
    assert all(c.end - c.start >= 5 / 6 for c in cues)


def test_overlapping_segments_do_not_overlap_as_cues() -> None:
    a = timed(0, 0.0, "Первый говорит долго и быстро про обстрел.", 18.0)
    b = timed(1, a.end - 1.0, "Второй перебивает.", 18.0)
    assert check_cues(source_cues([a, b])) == []


def test_empty_input_gives_no_cues() -> None:
    assert source_cues([]) == []
    assert english_cues([], []) == []
    assert source_cues([Segment(0, 0.0, 1.0, "  ")]) == []


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("the", "96th"),
        ("96th", "Regiment"),
        ("Vladimir", "Putin"),
        ("not", "paid"),
        ("don't", "know"),
        ("a", "tank"),
        ("не", "платили"),
        ("Владимир", "Путин"),
    ],
)
def test_forbidden_breaks(left: str, right: str) -> None:
    assert break_cost(left, right) >= FORBIDDEN


def test_break_preferences() -> None:
    assert break_cost("days.", "Then") < break_cost("again,", "and")
    assert break_cost("again,", "and") < break_cost("contact", "with")
    assert break_cost("contact", "with") < break_cost("lost", "contact")
    assert break_cost("сказал,", "что") < break_cost("денег", "и") < break_cost("нам", "дали")


def test_layout_prefers_bottom_heavy_and_one_line() -> None:
    assert layout(["We", "lost", "the", "tank"]) == (("We lost the tank",), 0.0)
    fitted = layout(
        [
            "they",
            "took",
            "everyone",
            "from",
            "the",
            "village",
            "to",
            "the",
            "old",
            "school",
            "building",
        ]
    )
    assert fitted is not None
    top, bottom = fitted[0]
    assert len(top) <= 42 and len(bottom) <= 42
    assert bottom.startswith(("from", "to"))
    assert layout(["x" * 43]) is None
