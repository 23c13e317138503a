"""The checker finds exactly the rule violations planted in a file, and reports them readably."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.errors import InputError, NotFoundError
from tolmach.models import Cue
from tolmach.subtitles.check import Violation, check_cues, check_file, format_report

PLANTED = """\
1
00:00:01,000 --> 00:00:03,000
A clean cue.

2
00:00:03,040 --> 00:00:05,000
Too close to the cue before.

3
00:00:04,900 --> 00:00:06,500
Starts before cue two ends.

4
00:00:07,000 --> 00:00:07,500
Short.

5
00:00:08,000 --> 00:00:16,000
Stays up far too long.

6
00:00:17,000 --> 00:00:22,000
This single line runs on past the 42 limit.

7
00:00:23,000 --> 00:00:26,000
One
two
three

8
00:00:27,000 --> 00:00:29,000
Thirty characters on this line
and thirty more on this one!!!

9
00:00:30,000 --> 00:00:32,000

10
00:00:40,000 --> 00:00:39,000
Ends before it starts.

11
00:00:33,000 --> 00:00:35,000
Out of order.
"""

EXPECTED = [
    (2, "min-gap"),
    (3, "overlap"),
    (4, "min-duration"),
    (5, "max-duration"),
    (6, "max-line-length"),
    (7, "max-lines"),
    (8, "reading-speed"),
    (9, "empty-cue"),
    (10, "bad-timing"),
    (11, "out-of-order"),
]


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    path = tmp_path / "planted.srt"
    path.write_text(PLANTED, encoding="utf-8")
    return path


def test_check_file_finds_exactly_the_planted_violations(planted: Path) -> None:
    violations = check_file(planted)
    assert [(v.index, v.rule) for v in violations] == EXPECTED
    assert violations[1] == Violation(3, 4.9, "overlap", "starts 0.100 s before cue 2 ends")
    assert "43 characters" in violations[4].message
    assert "30.0 characters per second" in violations[6].message


def test_report_lists_each_violation_and_counts_per_rule(planted: Path) -> None:
    report = format_report(planted, check_file(planted))
    lines = report.splitlines()
    assert len(lines) == len(EXPECTED) + 1
    assert lines[0].startswith("cue  2  00:00:03,040  min-gap")
    assert "cue  8  00:00:27,000  reading-speed" in report
    assert lines[-1].startswith(
        f"{planted}: 10 violations in 10 cue(s) (bad-timing 1, empty-cue 1,"
    )
    assert format_report(planted, []) == f"{planted}: no violations"


def test_clean_cues_and_limits() -> None:
    exact = [
        Cue(0.0, 5 / 6, ("x" * 16,), 1),  # 19.2 cps, minimum duration
        Cue(0.917, 7.917, ("y" * 42, "z" * 42), 2),  # 12 cps, 7 s, full lines
    ]
    assert check_cues(exact) == []
    # Two frames at 25 fps is 80 ms; at 50 fps, 40 ms is enough.
    close = [Cue(0.0, 1.0, ("a",), 1), Cue(1.04, 2.0, ("b",), 2)]
    assert [v.rule for v in check_cues(close)] == ["min-gap"]
    assert check_cues(close, fps=50.0) == []


def test_vtt_file_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "fast.vtt"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:01.500\n<i>Far too fast for anyone</i>\n")
    rules = [v.rule for v in check_file(path)]
    assert rules == ["reading-speed", "min-duration"]


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        check_file(tmp_path / "nope.srt")
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:01,000 -> 00:00:02,000\nhi\n")
    with pytest.raises(InputError, match=r"bad\.srt, line 2:"):
        check_file(bad)
