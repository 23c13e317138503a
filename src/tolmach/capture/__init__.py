"""URL capture: a post's media (yt-dlp), its page as WARC/WACZ, a screenshot, the post's text.

    fetch       HTTP fetches recorded as WARC request/response records; clear network errors
    download    the media, with yt-dlp used as a library
    page        the post's text, author, time and comments (yt-dlp and the page's meta tags)
    archive     the WARC file and its WACZ package (py-wacz), validated
    screenshot  a screenshot with headless Chromium
    url         the whole capture, stored only when all of it checks out
    reader      checks WARC and WACZ files, ours or anyone's (``tolmach archive check``)

The package itself imports nothing heavy, so the CLI can ask :func:`is_url` cheaply.
"""

__all__ = ["is_url"]


def is_url(source: str) -> bool:
    """Whether a command's SOURCE is a URL (http or https) rather than a file."""
    return source.strip().lower().startswith(("http://", "https://"))
