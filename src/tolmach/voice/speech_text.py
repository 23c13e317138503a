"""English text made ready to be read aloud: numbers, abbreviations, links, emoji, sentences.

The same rules for every engine, so Piper and espeak-ng read a segment alike:

- numbers become words: "96th" → "ninety-sixth", "1,200" → "one thousand two hundred",
  "3.5" → "three point five", "40%" → "forty percent", "14:30" → "fourteen thirty";
- abbreviations in capitals are read letter by letter ("SMO" → "S-M-O", "AI" → "A-I"; with
  spaces the engines read a lone "A" as the article), except the few said as words (NATO,
  HIMARS...): spelling out what an abbreviation stands for would put words in a speaker's
  mouth that he did not say;
- a link is read as "a link to" and its site ("t.me/x" → "a link to t dot me");
- emoji and pictographs are dropped; "#" and "@" in front of a word are dropped;
- ``sentences`` splits a long segment into sentences, and a sentence longer than
  ``MAX_CHARS`` at commas or between words, so no utterance is too long for the engine.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 300

SAID_AS_WORDS = frozenset(
    {"NATO", "HIMARS", "UNESCO", "UNICEF", "NASA", "OPEC", "COVID", "AIDS", "FIFA", "ASAP"}
)
UNITS = {"km": "kilometres", "kg": "kilograms", "mm": "millimetre", "cm": "centimetres"}

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s]+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|ru|ua|me|io|info|gov|tv)"
    r"\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s?%)?")
_UNIT = re.compile(r"(?<=\d)\s?(km|kg|mm|cm)\b")
_CAPS = re.compile(r"\b[A-Z]{2,6}\b")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SOFT_BREAK = re.compile(r"(?<=[,;:—–])\s+")


def for_speech(text: str) -> str:
    """``text`` with every rule above applied, on one line."""
    text = _URL.sub(_link, text)
    text = _drop_pictographs(text)
    text = re.sub(r"(?<!\w)[#@](?=\w)", "", text)
    text = _UNIT.sub(lambda m: " " + UNITS[m.group(1)], text)
    text = _TIME.sub(lambda m: f"{number_words(int(m.group(1)))} {_minutes(m.group(2))}", text)
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m.group(1))), text)
    text = _NUMBER.sub(_number, text)
    if re.search(r"[a-z]", text):  # a segment all in capitals is shouted, not abbreviated
        text = _CAPS.sub(_letters, text)
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    """``text`` read for speech and cut into utterances of at most ``MAX_CHARS``."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(for_speech(text)):
        out += _pieces(sentence) if len(sentence) > MAX_CHARS else [sentence]
    return [s for s in out if re.search(r"\w", s)]


def number_words(n: int) -> str:
    """A whole number in words: 1204 → "one thousand two hundred four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for size, name in _SCALES:
        if n >= size:
            high, rest = divmod(n, size)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def ordinal_words(n: int) -> str:
    """96 → "ninety-sixth", 1 → "first", 20 → "twentieth"."""
    words = number_words(n)
    head, sep, last = words.rpartition("-" if "-" in words.split(" ")[-1] else " ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def _number(m: re.Match[str]) -> str:
    whole = int(m.group(1).replace(",", ""))
    if len(m.group(1).replace(",", "")) > 12:  # a phone or serial number: digit by digit
        words = " ".join(_ONES[int(d)] for d in m.group(1) if d.isdigit())
    else:
        words = number_words(whole)
    if m.group(2):
        words += " point " + " ".join(_ONES[int(d)] for d in m.group(2))
    if m.group(3):
        words += " percent"
    return words


def _link(m: re.Match[str]) -> str:
    url = m.group(0)
    tail = url[len(url.rstrip(".,;:!?)")) :]
    return f" a link to {_site(url)}{tail} "


def _letters(m: re.Match[str]) -> str:
    word = m.group(0)
    return word if word in SAID_AS_WORDS else "-".join(word)


def _minutes(mm: str) -> str:
    if mm == "00":
        return "hundred"
    return ("oh " if mm[0] == "0" else "") + number_words(int(mm))


def _site(url: str) -> str:
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/?#]", host, maxsplit=1)[0].rstrip(".,;:!?)")
    return " dot ".join(part for part in host.lower().split(".") if part)


def _drop_pictographs(text: str) -> str:
    kept = []
    for ch in text:
        if ch in "\u200d\ufe0e\ufe0f" or unicodedata.category(ch) in ("So", "Cs", "Co"):
            continue
        if unicodedata.category(ch) == "Sk" and 0x1F3FB <= ord(ch) <= 0x1F3FF:  # skin tones
            continue
        kept.append(ch)
    return "".join(kept)


def _pieces(sentence: str) -> list[str]:
    """A long sentence cut at commas, then between words, into pieces of at most MAX_CHARS."""
    pieces: list[str] = []
    current = ""
    for part in _SOFT_BREAK.split(sentence):
        for word in part.split():
            if current and len(current) + 1 + len(word) > MAX_CHARS:
                pieces.append(current)
                current = ""
            current = f"{current} {word}" if current else word
        if len(current) > MAX_CHARS * 0.5:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces
