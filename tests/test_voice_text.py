"""Text made ready for speech: numbers, ordinals, abbreviations, links, emoji, long segments."""

from __future__ import annotations

import pytest

from tolmach.voice.speech_text import MAX_CHARS, for_speech, number_words, ordinal_words, sentences


@pytest.mark.parametrize(
    ("n", "words", "ordinal"),
    [
        (1, "one", "first"),
        (12, "twelve", "twelfth"),
        (20, "twenty", "twentieth"),
        (96, "ninety-six", "ninety-sixth"),
        (101, "one hundred one", "one hundred first"),
        (1200, "one thousand two hundred", "one thousand two hundredth"),
        (2_000_003, "two million three", "two million third"),
    ],
)
def test_numbers_and_ordinals(n: int, words: str, ordinal: str) -> None:
    assert number_words(n) == words
    assert ordinal_words(n) == ordinal


def test_a_soldiers_sentence_is_read_sensibly() -> None:
    text = "The 96th regiment of the SMO lost 1,200 men, 40% of them, 3.5 km from Bakhmut at 14:05."
    assert for_speech(text) == (
        "The ninety-sixth regiment of the S-M-O lost one thousand two hundred men, forty percent "
        "of them, three point five kilometres from Bakhmut at fourteen oh five."
    )


def test_abbreviations_said_as_words_stay_words_and_shouting_is_not_spelled() -> None:
    assert for_speech("NATO sent HIMARS to the AFU") == "NATO sent HIMARS to the A-F-U"
    assert for_speech("STOP THE WAR") == "STOP THE WAR"
    assert for_speech("This English voice is AI-generated.") == (
        "This English voice is A-I-generated."
    )


def test_links_are_read_as_their_site() -> None:
    assert for_speech("Watch https://t.me/rybar/123?x=1, then www.Example.com.") == (
        "Watch a link to t dot me, then a link to example dot com."
    )
    assert for_speech("on youtube.com/watch now") == "on a link to youtube dot com now"


def test_emoji_hashtags_and_handles_are_dropped() -> None:
    assert for_speech("Glory 🇺🇦🙏🏻 to the heroes 👍 #war @commander ❤️") == (
        "Glory to the heroes war commander"
    )


def test_a_2000_character_segment_is_cut_into_sentences_and_short_pieces() -> None:
    sentence = "We were sent to the front without water, without food, and without orders"
    text = ". ".join([sentence] * 27) + "."
    assert len(text) > 2000
    parts = sentences(text)
    assert len(parts) == 27
    assert all(p.endswith(".") for p in parts)
    run_on = ", ".join(["without water"] * 150)
    pieces = sentences(run_on)
    assert len(pieces) > 1 and all(len(p) <= MAX_CHARS for p in pieces)
    assert " ".join(pieces).split() == for_speech(run_on).split()


def test_text_with_nothing_to_say_gives_no_utterance() -> None:
    assert sentences("🙏 👍 ...") == []
