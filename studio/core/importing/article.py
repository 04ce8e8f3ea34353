"""Fetch a web article and keep its main text (no menus, sidebars, footers or comments).

The page is downloaded with httpx (size-capped, with timeouts) and the article found with
trafilatura. Every network failure becomes a :class:`TextImportError` that says what to check.
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx

from studio import __version__
from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook, RawChapter
from studio.core.textsplit import normalize_space

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MIN_WORDS = 20  # fewer words than this is not an article worth narrating
USER_AGENT = f"NarratorStudio/{__version__}"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")
_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def _phrase(response: httpx.Response) -> str:
    """Return the status text ("Not Found"); HTTP/2 servers send none, so use the standard one."""
    if response.reason_phrase:
        return response.reason_phrase
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def _reason(exc: BaseException) -> str:
    """Return the short cause of a network error ("Connection refused")."""
    while exc.__context__ is not None and not str(exc):
        exc = exc.__context__
    text = normalize_space(str(exc)) or type(exc).__name__
    return _ERRNO.sub("", text)


def read_url(
    url: str,
    *,
    timeout: float = 20.0,
    max_bytes: int = MAX_BYTES,
    transport: httpx.BaseTransport | None = None,
) -> RawBook:
    """Download the article at ``url`` and return its title, author and paragraphs.

    Args:
        url: an http(s) address.
        timeout: seconds to wait for the connection and for each read; the whole download
            may take at most four times as long.
        max_bytes: the largest page accepted.
        transport: an httpx transport for tests.

    Raises:
        TextImportError: the page cannot be fetched, is not HTML, or holds no article.
    """
    html, charset = _download(url, timeout, max_bytes, transport)
    return _extract(url, html, charset)


def _download(
    url: str, timeout: float, max_bytes: int, transport: httpx.BaseTransport | None
) -> tuple[bytes, str | None]:
    """Return the page's body and its declared charset."""
    deadline = time.monotonic() + 4 * timeout
    try:
        with (
            httpx.Client(
                transport=transport,
                follow_redirects=True,
                max_redirects=10,
                timeout=httpx.Timeout(timeout),
                headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                status = f"{response.status_code} {_phrase(response)}".strip()
                raise TextImportError(url, f"the server answered {status}")
            content_type = response.headers.get("content-type", "")
            mime = content_type.split(";")[0].strip().lower()
            if mime and mime not in _HTML_TYPES:
                raise TextImportError(url, f"is not a web page ({mime})")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise TextImportError(url, f"the page is larger than {_size(max_bytes)}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TextImportError(url, f"the page is larger than {_size(max_bytes)}")
                if time.monotonic() > deadline:
                    raise TextImportError(
                        url, f"did not finish sending the page within {4 * timeout:g} s"
                    )
            return bytes(body), response.charset_encoding
    except httpx.TimeoutException:
        raise TextImportError(url, f"did not answer within {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise TextImportError(
            url, f"could not be reached (are you offline?): {_reason(exc)}"
        ) from None
    except httpx.TooManyRedirects:
        raise TextImportError(url, "redirects too many times") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise TextImportError(url, f"is not a valid web address ({_reason(exc)})") from None
    except httpx.RequestError as exc:  # protocol errors, broken compression, ...
        raise TextImportError(url, f"the connection failed: {_reason(exc)}") from None


def _extract(url: str, html: bytes, charset: str | None) -> RawBook:
    """Return the article in ``html`` as a one-chapter book."""
    import trafilatura  # deferred: it is slow to import and only needed for articles

    document: str | bytes = html
    if charset:
        try:
            document = html.decode(charset, errors="replace")
        except LookupError:
            log.info("unknown charset %r from %s; letting trafilatura detect it", charset, url)
    try:
        result = trafilatura.bare_extraction(
            document,
            url=url,
            include_comments=False,
            include_tables=False,
            output_format="python",
            with_metadata=True,
        )
    except (ValueError, TypeError, LookupError):
        log.warning("trafilatura failed on %s", url, exc_info=True)
        result = None
    text = getattr(result, "text", None) or ""
    title = normalize_space(getattr(result, "title", None) or "")
    author = normalize_space(getattr(result, "author", None) or "")
    paragraphs = [p for p in (normalize_space(line) for line in text.split("\n")) if p]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the headline is the chapter title, not its first block
    # With nothing article-like on the page trafilatura falls back to menu labels and captions.
    if sum(len(p.split()) for p in paragraphs) < MIN_WORDS:
        raise TextImportError(url, "no article text could be found on the page")
    if not title:
        title = normalize_space(getattr(result, "sitename", None) or "") or urlsplit(url).netloc
    match = _LANG.search(html[:65536])
    language = match.group(1).decode("ascii").lower() if match else ""
    return RawBook(
        format="article",
        title=title,
        author=author,
        language=language,
        chapters=[RawChapter(title, paragraphs, source=url)],
    )
