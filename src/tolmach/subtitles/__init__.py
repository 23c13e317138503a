"""Subtitles: read and write SRT and WebVTT, build cues from timed segments, check the rules.

formats  parse(data, name) -> cues; to_srt(cues), to_vtt(cues)
build    source_cues(segments), english_cues(english, source)
check    check_cues(cues), check_file(path), format_report(path, violations)
rules    the limits (42 characters a line, 2 lines, 20 cps, 5/6 s to 7 s, 2-frame gap)
breaks   where a line or a cue may break
decode   bytes to text in whatever encoding a file came in
"""
