"""Import web articles from a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio.core.errors import TextImportError
from studio.core.importing import import_source
from studio.core.importing.article import read_url

PARAGRAPHS = [
    "The old lighthouse on Gull Point has stood empty for nearly forty years, its lamp dark "
    "and its iron stairs rusting quietly in the salt air.",
    "Last spring a group of volunteers from the village decided that enough was enough, and "
    "they began to raise money for a careful restoration of the tower.",
    "Their first task was to clear decades of bird nests and fallen plaster from the lantern "
    "room, which took three long weekends and a great deal of patience.",
    "Engineers then inspected the foundations and found, to everyone's relief, that the "
    "granite base was as solid as the day it had been laid in 1871.",
    "The new lamp, a modest LED unit that uses less power than a kettle, was lowered into "
    "place by crane on a calm morning in late September.",
    "When it was switched on that evening, half the village gathered on the cliff path to "
    "watch the beam sweep once more across the dark water of the bay.",
]
TITLE = "Light Returns to Gull Point"
AUTHOR = "Maria Keller"
NAV = "Subscribe to our newsletter today"
FOOTER = "Copyright 2024 Coastal Gazette Media Group"
SIDEBAR = "Most read this week: ferry timetable changes"

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE} | Coastal Gazette</title>
  <meta name="author" content="{AUTHOR}">
  <meta property="og:title" content="{TITLE}">
</head>
<body>
  <header>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
    <li><a href="/sport">Sport</a></li><li><a href="/subscribe">{NAV}</a></li></ul></nav>
  </header>
  <div class="layout">
    <main>
      <article>
        <h1>{TITLE}</h1>
        <p class="byline">By {AUTHOR}</p>
        {"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
      </article>
    </main>
    <aside class="sidebar">
      <h2>Popular</h2>
      <ul><li><a href="/a">{SIDEBAR}</a></li>
      <li><a href="/b">Harbour car park to close</a></li></ul>
    </aside>
  </div>
  <footer><p>{FOOTER}</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body>
</html>
"""


@dataclass
class _Site:
    base: str
    stop: threading.Event
    requests: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    site: _Site  # set on a subclass per server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.site.requests.append(dict(self.headers.items()))
        path = self.path.split("?")[0]
        if path == "/article":
            self._send(200, ARTICLE_HTML.encode(), "text/html; charset=utf-8")
        elif path == "/latin1":
            self._send(
                200,
                ARTICLE_HTML.replace("forty", "fört").encode("latin-1"),
                "text/html; charset=iso-8859-1",
            )
        elif path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/menu-only":
            menu = ARTICLE_HTML.split("<div")[0] + "<footer>" + FOOTER + "</footer></body></html>"
            self._send(200, menu.encode(), "text/html")
        elif path == "/report.pdf":
            self._send(200, b"%PDF-1.4\n%fake\n", "application/pdf")
        elif path == "/huge":
            self._huge()
        elif path == "/slow":
            self._slow()
        else:
            self._send(404, b"<html><body>Not here</body></html>", "text/html")

    def _huge(self) -> None:
        """Stream a page with no Content-Length, never more than 2 MB, until the client leaves."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        chunk = b"<p>" + b"x" * 16_000 + b"</p>\n"
        try:
            for _ in range(128):
                if self.site.stop.is_set():
                    break
                self.wfile.write(chunk)
        except OSError:
            pass  # the client hung up once it had enough: that is the point

    def _slow(self) -> None:
        """Answer only after 2 s (or at teardown), longer than the test's timeout."""
        self.site.stop.wait(2.0)
        with contextlib.suppress(OSError):  # the client gave up long ago
            self._send(200, ARTICLE_HTML.encode(), "text/html")


@pytest.fixture
def site() -> Iterator[_Site]:
    stop = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    state = _Site(f"http://127.0.0.1:{server.server_address[1]}", stop)
    server.RequestHandlerClass = type("Handler", (_Handler,), {"site": state})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_article_text_without_navigation_or_footer(site: _Site) -> None:
    url = f"{site.base}/article"
    project, report = import_source(url)

    assert project.title == TITLE
    assert project.author == AUTHOR
    assert report.format == "article"
    assert [c.title for c in project.chapters] == [TITLE]
    texts = [b.text for b in project.chapters[0].blocks]
    assert texts == PARAGRAPHS  # the headline is the title, not a paragraph
    page_text = " ".join(texts)
    for junk in (NAV, FOOTER, SIDEBAR, "Privacy policy", "Harbour car park"):
        assert junk not in page_text
    assert site.requests[0]["User-Agent"].startswith("NarratorStudio/")


def test_redirect_is_followed_and_declared_charset_used(site: _Site) -> None:
    raw = read_url(f"{site.base}/moved")
    assert raw.chapters[0].paragraphs[-1] == PARAGRAPHS[-1]

    raw = read_url(f"{site.base}/latin1")
    assert any("fört years" in p for p in raw.chapters[0].paragraphs)
    assert raw.language == "en"


def test_missing_page_reports_the_status(site: _Site) -> None:
    url = f"{site.base}/gone"
    with pytest.raises(TextImportError, match="404") as info:
        read_url(url)
    assert str(info.value) == f"{url}: the server answered 404 Not Found"


def test_page_over_the_size_cap_is_refused(site: _Site) -> None:
    with pytest.raises(TextImportError, match="larger than 100 KB"):
        read_url(f"{site.base}/huge", max_bytes=100 * 1024)


def test_slow_server_times_out(site: _Site) -> None:
    started = time.monotonic()
    with pytest.raises(TextImportError, match=r"did not answer within 0\.3 s"):
        read_url(f"{site.base}/slow", timeout=0.3)
    assert time.monotonic() - started < 1.9


def test_closed_port_could_not_be_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article"
    with pytest.raises(TextImportError, match="could not be reached") as info:
        read_url(url, timeout=5)
    assert str(info.value).startswith(url)
    assert "[Errno" not in str(info.value)


def test_pdf_content_type_is_not_a_web_page(site: _Site) -> None:
    with pytest.raises(TextImportError, match=r"is not a web page \(application/pdf\)"):
        read_url(f"{site.base}/report.pdf")


def test_page_without_an_article_is_refused(site: _Site) -> None:
    with pytest.raises(TextImportError, match="no article text could be found"):
        read_url(f"{site.base}/menu-only")
