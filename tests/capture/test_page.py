"""Page info: yt-dlp's post facts and the page's meta tags, merged; comments kept."""

from __future__ import annotations

from tolmach.capture.page import html_meta, page_info

HTML = """<html><head><title> Пост
 бойца </title>
<meta property="og:description" content="Текст поста &amp; жалобы">
<meta name="author" content="Иван">
<meta property="article:published_time" content="2026-03-01T09:15:00Z">
<meta name="viewport" content="width=device-width">
</head><body><p>тело</p></body></html>""".encode()


def test_meta_tags_are_read() -> None:
    meta = html_meta(HTML)
    assert meta == {
        "og:description": "Текст поста & жалобы",
        "author": "Иван",
        "article:published_time": "2026-03-01T09:15:00Z",
        "title": "Пост бойца",
    }


def test_broken_html_gives_what_it_can() -> None:
    assert html_meta(b"<html><head><meta name='author' content='A'><title>T") == {
        "author": "A",
        "title": "T",
    }
    assert html_meta(b"\xff\xfe\x00garbage<<<") == {}


def test_platform_facts_win_and_comments_are_kept() -> None:
    info = {
        "description": "Пост с платформы",
        "uploader": "unit96",
        "uploader_id": "@unit96",
        "timestamp": 1772356500,
        "webpage_url": "https://example.org/p/1",
        "extractor_key": "Telegram",
        "id": "1",
        "comment_count": 2,
        "comments": [
            {"id": "c1", "parent": "root", "author": "Мама", "text": "Держись", "timestamp": 1},
            {"id": "c2", "parent": "c1", "author": "X", "text": "+", "timestamp": 2, "x": "y"},
        ],
    }
    page = page_info(info, html_meta(HTML))
    assert page["text"] == "Пост с платформы"
    assert page["uploader"] == "unit96" and page["extractor"] == "Telegram"
    assert page["posted_at"] == "2026-03-01T09:15:00Z"
    assert [c["text"] for c in page["comments"]] == ["Держись", "+"]
    assert "x" not in page["comments"][1]
    assert page["meta"]["author"] == "Иван"


def test_meta_fills_what_the_platform_does_not_say() -> None:
    page = page_info({"upload_date": "20260301"}, html_meta(HTML))
    assert page["text"] == "Текст поста & жалобы"
    assert page["uploader"] == "Иван"
    assert page["posted_at"] == "2026-03-01"
    assert page["title"] == "Пост бойца" and page["comments"] == []
