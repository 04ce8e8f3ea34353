"""Defensive reading of untrusted manuscripts: size caps, safe ZIP and XML, text decoding.

Every check raises :class:`TextImportError` naming the file and the problem, so a hostile or
broken file gives a clear message instead of a hang, a crash or a full disk.
"""

from __future__ import annotations

import codecs
import html.entities
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from lxml import etree

from studio.core.errors import TextImportError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_TEXT_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 20_000
MAX_ZIP_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_ZIP_ENTRY_BYTES = 256 * 1024 * 1024
MAX_ZIP_RATIO = 200  # uncompressed/compressed beyond this (on entries over 1 MiB) is a bomb

_CP1252_CHAOS_MARGIN = 0.05  # see decode_text


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def check_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> int:
    """Check that ``path`` is a readable, non-empty file no larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TextImportError(path, "file not found") from None
    except OSError as exc:
        raise TextImportError(path, f"cannot be read ({exc.strerror})") from None
    if not path.is_file():
        raise TextImportError(path, "is not a file")
    if size == 0:
        raise TextImportError(path, "is empty")
    if size > max_bytes:
        raise TextImportError(
            path, f"is {_mb(size)}; the largest manuscript accepted is {_mb(max_bytes)}"
        )
    return size


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Return the bytes of ``path`` after :func:`check_file`."""
    check_file(path, max_bytes)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TextImportError(path, f"cannot be read ({exc.strerror})") from None


# ---------------------------------------------------------------------------------------------
# Text


def looks_binary(data: bytes) -> bool:
    """Return whether ``data`` looks like binary content rather than text."""
    sample = data[:65536]
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls / len(sample) > 0.02


def decode_text(data: bytes, source: str | Path) -> tuple[str, str | None]:
    """Decode manuscript bytes; return the text and a warning when not UTF-8.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are taken as they are. Anything else is
    detected with charset-normalizer and reported, so the user can check accented letters.
    """
    if looks_binary(data):
        raise TextImportError(source, "looks like a binary file, not text")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise TextImportError(source, "is not valid UTF-16 text") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data[: 4 * 1024 * 1024])
    best = matches.best()
    if best is None or best.encoding is None:
        raise TextImportError(source, "is not text in any encoding we recognise")
    encoding = best.encoding
    # On short French text charset-normalizer can rank cp1250/cp1257 first ("crème" read as
    # "crčme"). Windows-1252, the most common non-UTF-8 manuscript encoding, wins when it
    # reads the text about as cleanly and fits the language at least as well.
    western = next((m for m in matches if "cp1252" in m.could_be_from_charset), None)
    if (
        western is not None
        and western.chaos <= best.chaos + _CP1252_CHAOS_MARGIN
        and western.coherence >= best.coherence
    ):
        encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise TextImportError(source, "is not text in any encoding we recognise") from None
    return text, f"not UTF-8: read as {encoding}; check accented letters"


# ---------------------------------------------------------------------------------------------
# ZIP containers (EPUB, DOCX)


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return ".." in parts


class SafeZip:
    """A ZIP archive opened with checks against bombs, hostile paths and truncation."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except zipfile.BadZipFile:
            raise TextImportError(
                path, f"is not a valid {kind} file: the archive is truncated or damaged"
            ) from None
        except OSError as exc:
            raise TextImportError(path, f"cannot be read ({exc.strerror})") from None
        if len(infos) > MAX_ZIP_ENTRIES:
            raise TextImportError(path, f"has {len(infos)} entries; refusing to open it")
        total = 0
        for info in infos:
            if _unsafe_name(info.filename):
                raise TextImportError(
                    path, f"contains an unsafe path '{info.filename}' (outside the archive)"
                )
            total += info.file_size
            if (
                info.file_size > 1024 * 1024
                and info.compress_size > 0
                and info.file_size / info.compress_size > MAX_ZIP_RATIO
            ):
                raise TextImportError(
                    path, f"looks like a zip bomb ('{info.filename}' expands too much)"
                )
        if total > MAX_ZIP_TOTAL_BYTES:
            raise TextImportError(path, f"would expand to {_mb(total)}; refusing (zip bomb?)")
        self.names = [i.filename for i in infos]
        self._names = set(self.names)

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()

    def has(self, name: str) -> bool:
        """Return whether the archive holds ``name``."""
        return name in self._names

    def read(self, name: str, max_bytes: int = MAX_ZIP_ENTRY_BYTES) -> bytes:
        """Return an entry's bytes, never more than ``max_bytes`` whatever the header says."""
        if name not in self._names:
            raise TextImportError(self.path, f"is missing '{name}'")
        try:
            with self._zip.open(name) as fh:
                data = fh.read(max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise TextImportError(
                self.path, f"entry '{name}' is damaged ({exc}); the archive may be truncated"
            ) from None
        except NotImplementedError:
            raise TextImportError(
                self.path, f"entry '{name}' uses an unsupported compression or encryption"
            ) from None
        if len(data) > max_bytes:
            raise TextImportError(self.path, f"entry '{name}' is larger than {_mb(max_bytes)}")
        return data


# ---------------------------------------------------------------------------------------------
# XML


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


_STRICT = _parser(False)
_RECOVER = _parser(True)


# "<!ENTITY" as it appears in every encoding an XML parser accepts without a declaration.
_ENTITY_MARKERS = tuple(
    "<!ENTITY".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le",
                                           "utf-32-be")
)


def refuse_entity_declarations(data: bytes, source: str | Path) -> None:
    """Refuse a document that declares entities (billion laughs, external entities).

    XML keywords are case-sensitive, so the declaration is exactly "<!ENTITY"; the whole
    document is searched (a long comment could push the DOCTYPE anywhere in the prolog), in
    UTF-8 and in the UTF-16/32 forms a parser would also read.
    """
    if any(marker in data for marker in _ENTITY_MARKERS):
        raise TextImportError(
            source, "declares XML entities (possible entity-expansion attack); refusing it"
        )


def parse_xml(data: bytes, source: str, recover: bool = False) -> etree._Element:
    """Parse untrusted XML with entity expansion, DTD loading and network access disabled.

    Documents declaring entities are refused outright: that is how billion-laughs and
    external-entity attacks start, and no EPUB or DOCX needs them.
    """
    refuse_entity_declarations(data, source)
    try:
        root = etree.fromstring(data, _RECOVER if recover else _STRICT)
    except etree.XMLSyntaxError as exc:
        raise TextImportError(source, f"is not well-formed XML ({exc.msg})") from None
    if root is None:
        raise TextImportError(source, "is not well-formed XML (no root element)")
    _resolve_entity_refs(root)
    return root


def _resolve_entity_refs(root: etree._Element) -> None:
    """Replace references to undeclared entities with the HTML characters they name.

    EPUB 2 XHTML declares the XHTML 1.1 DTD and uses its entities (``&nbsp;``, ``&eacute;``);
    with DTD loading off they stay as entity nodes, whose text is the raw ``&name;``. Unknown
    names are kept as written.
    """
    for ent in list(root.iter(etree.Entity)):
        parent = ent.getparent()
        if parent is None:
            continue
        value = html.entities.html5.get(f"{ent.name};", ent.text or "")
        text = value + (ent.tail or "")
        previous = ent.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(ent)
