"""Turn the bytes of a subtitle file into text, whatever encoding it was saved in.

Subtitle files arrive in UTF-8 with or without a BOM, UTF-16 from Windows tools, and legacy
code pages (GB2312, Windows-1251, KOI8-R). BOMs decide first, then strict UTF-8, then
charset-normalizer's best guess. Binary data (an image, a video, a zip renamed to .srt) is
refused rather than read as garbage.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from tolmach.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters that never appear in text (tab, newlines and form feed excluded).
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c") | {"\x7f"}
_MAX_CONTROL_SHARE = 0.05


def decode(data: bytes, label: str) -> str:
    """The text of ``data``; ``InputError`` when it is binary or in no encoding we can tell."""
    text = _decode(data, label)
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = sum(1 for ch in text if ch in _CONTROL)
    if text and controls / len(text) > _MAX_CONTROL_SHARE:
        raise _binary(label)
    # A stray NUL is kept visible, as WebVTT parsers do, rather than cutting the line short.
    return text.replace("\x00", "\ufffd")


def _decode(data: bytes, label: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{label} starts with a {encoding} byte order mark but is not valid "
                    f"{encoding} (byte {exc.start + len(bom)}).",
                    "Re-save the file as UTF-8 in a subtitle editor and try again.",
                ) from None
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _binary(label)
    return str(best)


def _utf16_without_bom(data: bytes) -> str:
    """UTF-16 text of mostly Latin, digits and punctuation has a NUL in every other byte."""
    sample = data[:4000]
    half = len(sample) // 2
    if half < 8:
        return ""
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.6 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.05 * half:
        return "utf-16-be"
    return ""


def _binary(label: str) -> InputError:
    return InputError(
        f"{label}, line 1: binary data, not a text subtitle file.",
        "Give an SRT or WebVTT file (text); check that the right file was chosen.",
    )
