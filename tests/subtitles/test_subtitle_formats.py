"""The SRT/WebVTT reader on real files (shared/data/SOURCES.md) and hand-made awkward ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.errors import InputError
from tolmach.models import Cue
from tolmach.subtitles.formats import format_time, parse, to_srt, to_vtt


@pytest.fixture(scope="module")
def subs(shared_data: Path) -> Path:
    return shared_data / "subtitles"


def read(path: Path) -> list[Cue]:
    return parse(path.read_bytes(), path.name)


# webvtt-py 0.6.0 samples


def test_bom_file_reads_without_the_bom(subs: Path) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / "captions_with_bom.vtt")
    assert len(cues) == 4
    assert cues[0] == Cue(0.5, 7.0, ("Caption text #1",), 1)


def test_comments_are_skipped(subs: Path) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / "comments.vtt")
    assert [c.start for c in cues] == [135.0, 140.0, 145.0]
    assert cues[0].lines == ("- Ta en kopp varmt te.", "- Det är inte varmt.")
    assert all("NOTE" not in line for c in cues for line in c.lines)


def test_cue_tags_and_karaoke_timestamps_are_stripped(subs: Path) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / "cue_tags.vtt")
    assert [c.text for c in cues] == [
        "When the moon hits your eye",
        "Like a big-a pizza pie",
        "That's amore",
    ]
    assert cues[0].start == 16.5  # hours omitted


@pytest.mark.parametrize("name", ["metadata_headers.vtt", "metadata_headers_multiline.vtt"])
def test_metadata_headers(subs: Path, name: str) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / name)
    assert [c.text for c in cues] == ["Caption text #1", "Caption text #2"]
    assert cues[1].end == 11.89


def test_youtube_cues_run_together_come_apart(subs: Path) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / "youtube_dl.vtt")
    assert cues[1].lines == ("yeah", "what")
    assert cues[2].text == "this will happen is I'm telling"
    assert (cues[2].start, cues[2].end) == (304.08, 305.069)


def test_netflix_file_and_voice_tags(subs: Path) -> None:
    assert len(read(subs / "webvtt-py-0.6.0" / "netflix_chicas_del_cable.vtt")) == 865
    cues = read(subs / "webvtt-py-0.6.0" / "non_padded_timestamps.vtt")
    assert cues[0].text == "Good morning everyone."
    assert (cues[2].start, cues[2].end) == (65.2, 3727.95)


@pytest.mark.parametrize("name", ["empty.vtt", "no_captions.vtt"])
def test_empty_files_have_no_cues(subs: Path, name: str) -> None:
    assert read(subs / "webvtt-py-0.6.0" / name) == []


def test_missing_caption_text_is_an_empty_cue(subs: Path) -> None:
    cues = read(subs / "webvtt-py-0.6.0" / "missing_caption_text.srt")
    assert len(cues) == 5
    assert cues[1].lines == ()


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("invalid.vtt", 1),
        ("invalid_format1.srt", 2),
        ("invalid_format2.srt", 1),
        ("invalid_format3.srt", 2),
        ("invalid_format4.srt", 1),
        ("invalid_timeframe.srt", 6),
        ("invalid_timeframe.vtt", 6),
        ("invalid_timeframe_in_cue_text.vtt", 7),
        ("missing_timeframe.srt", 6),
        ("missing_timeframe.vtt", 6),
    ],
)
def test_invalid_files_name_the_file_and_line(subs: Path, name: str, line: int) -> None:
    with pytest.raises(InputError) as err:
        read(subs / "webvtt-py-0.6.0" / name)
    assert err.value.message.startswith(f"{name}, line {line}:")
    assert err.value.hint  # says what to do


# srt 3.5.3


def test_gb2312_is_detected(subs: Path) -> None:
    cues = read(subs / "srt-3.5.3" / "gb2312.srt")
    assert len(cues) == 3
    assert "宇宙守护神" in cues[0].text
    assert cues[0].start == 27.0


def test_ascii_srt(subs: Path) -> None:
    cues = read(subs / "srt-3.5.3" / "ascii.srt")
    assert len(cues) == 3
    assert cues[0].text == "ascii"
    assert (cues[0].start, cues[0].end) == (27.0, 30.73)


# mediaelement 7.1.0


def test_mediaelement_tracks(subs: Path) -> None:
    cues = read(subs / "mediaelement-7.1.0" / "english.vtt")
    assert len(cues) == 7
    assert cues[3].text == "Invidunt ut labore et dolore"  # <i> stripped
    chapters = read(subs / "mediaelement-7.1.0" / "english_chapters.vtt")
    assert [c.text for c in chapters][:2] == ["The woods", "Water"]
    assert chapters[1].start == 12.501


# w3c web-platform-tests file parsing


@pytest.mark.parametrize(
    ("name", "texts"),
    [
        ("signature-bom.vtt", []),
        ("header-garbage.vtt", ["text"]),
        ("header-timings.vtt", ["text"]),
        ("ids.vtt", [f"text{n}" for n in range(5)]),
        ("newlines.vtt", [f"text{n}" for n in range(4)]),  # CR, LF, CRLF, LFCR
        ("settings-multiple.vtt", ["text0", "text1"]),
        ("regions-id.vtt", ["valid"] * 4),
        ("regions-old.vtt", ["text0", "text1"]),
        ("stylesheets.vtt", ["text", "text"]),
        ("timings-omitted-hours.vtt", ["text0", "text1", "text2"]),
    ],
)
def test_wpt_file_parsing(subs: Path, name: str, texts: list[str]) -> None:
    cues = read(subs / "w3c-webvtt.js-wpt" / "test" / "wpt-file-parsing" / name)
    assert [c.text for c in cues] == texts


@pytest.mark.parametrize(
    ("name", "line"),
    [("timings-garbage.vtt", 3), ("timings-60.vtt", 3), ("timings-eof.vtt", 3)],
)
def test_wpt_bad_timings_raise(subs: Path, name: str, line: int) -> None:
    with pytest.raises(InputError, match=f"{name}, line {line}: "):
        read(subs / "w3c-webvtt.js-wpt" / "test" / "wpt-file-parsing" / name)


# hand-made


SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\nПервая строка\n<i>вторая</i>\n\n"
    "2\n00:00:03,000 --> 00:00:04,000\n{\\an8}Третья\n"
)
EXPECTED = [
    Cue(1.0, 2.5, ("Первая строка", "вторая"), 1),
    Cue(3.0, 4.0, ("Третья",), 2),
]


def test_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.srt"
    path.write_bytes(SRT.replace("\n", "\r\n").encode())
    assert read(path) == EXPECTED


def test_missing_indexes(tmp_path: Path) -> None:
    text = (
        "00:00:01,000 --> 00:00:02,500\nПервая строка\nвторая\n\n"
        "00:00:03.000 --> 00:00:04.000\nТретья\n"
    )
    assert parse(text.encode(), "noindex.srt") == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "cp1251"])
def test_other_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.srt"
    path.write_bytes(SRT.encode(encoding))
    assert read(path) == EXPECTED


def test_vtt_settings_entities_and_voice(tmp_path: Path) -> None:
    text = (
        "\ufeffWEBVTT - title\nKind: captions\n\nSTYLE\n::cue { color: red }\n\n"
        "NOTE a comment\nspanning lines\n\nintro\n00:01.000 --> 00:02.000 align:start line:0\n"
        "<v Olena>Tom &amp; Jerry &lt;3</v>\n<c.yellow>ok</c>\n"
    )
    assert parse(text.encode()) == [Cue(1.0, 2.0, ("Tom & Jerry <3", "ok"), 1)]


def test_format_is_told_by_content_then_name() -> None:
    srt_in_vtt = b"1\n00:00:01,000 --> 00:00:02,000\nhi\n"
    assert parse(srt_in_vtt, "odd.vtt") == [Cue(1.0, 2.0, ("hi",), 1)]
    with pytest.raises(InputError, match=r"line 1: does not start with the WEBVTT line"):
        parse(b"00:00:01.000 --> 00:00:02.000\nhi\n", "x.vtt")
    assert parse(b"00:00:01.000 --> 00:00:02.000\nhi\n", "x.srt")[0].text == "hi"


def test_binary_and_textless_files_are_refused(tmp_path: Path) -> None:
    png = bytes(range(256)) * 8
    with pytest.raises(InputError, match=r"image\.srt, line 1: binary data"):
        parse(png, "image.srt")
    with pytest.raises(InputError, match=r"notes\.srt, line 2: expected a cue number"):
        parse(b"\njust some words\n", "notes.srt")


def test_whitespace_only_file_has_no_cues() -> None:
    assert parse(b"", "empty.srt") == []
    assert parse(b"\n\r\n  \n", "blank.srt") == []


# writing and the round trip


CUES = [
    Cue(0.0, 1.234, ("Hello & <welcome>",), 1),
    Cue(61.5, 63.0, ("Two", "lines"), 2),
    Cue(3600.001, 3606.999, ("Командир сказал: «ждите».",), 3),
]


def test_srt_output() -> None:
    text = to_srt(CUES)
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,234\nHello & <welcome>\n\n2\n")
    assert "3\n01:00:00,001 --> 01:00:06,999\n" in text
    assert to_srt([]) == ""


def test_vtt_output() -> None:
    text = to_vtt(CUES)
    assert text.startswith(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.234\nHello &amp; &lt;welcome&gt;\n"
    )
    assert to_vtt([]) == "WEBVTT\n"
    assert parse(to_vtt([]).encode(), "empty.vtt") == []


def test_round_trip() -> None:
    srt_cues = [c for c in CUES if "<" not in c.text]  # SRT has no escaping for "<...>"
    assert parse(to_srt(srt_cues).encode(), "x.srt") == [
        Cue(c.start, c.end, c.lines, n) for n, c in enumerate(srt_cues, 1)
    ]
    assert parse(to_vtt(CUES).encode(), "x.vtt") == CUES


def test_format_time() -> None:
    assert format_time(3725.5) == "01:02:05,500"
    assert format_time(59.9996, ".") == "00:01:00.000"  # rounds to the nearest millisecond
