"""Build small EPUB 2/3 files in code for the EPUB importer tests (no test functions here).

Layout of a built book::

    mimetype                      (first entry, stored: what readers sniff)
    META-INF/container.xml        (points at OEBPS/content.opf)
    OEBPS/content.opf             (metadata, manifest, spine, optional guide)
    OEBPS/nav.xhtml               (EPUB 3 navigation document)
    OEBPS/toc.ncx                 (EPUB 2 NCX, or EPUB 3 with ncx=True)
    OEBPS/Text/<doc>              (the XHTML content documents)
    OEBPS/Images/cover.png        (when cover_image is given)

Every href a test passes (``toc``, ``guide``) is relative to ``OEBPS/Text/`` ("ch1.xhtml",
"book.xhtml#ch2"); the builder rewrites it for the OPF/nav/NCX, which live one level up.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

OPS_DIR = "OEBPS"
TEXT_DIR = "Text"

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"

# A 1x1 PNG, enough for a cover image item.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass(frozen=True)
class Doc:
    """One content document.

    Args:
        name: file name under ``OEBPS/Text/``.
        body: inner HTML of the wrapper (or of ``<body>`` when ``epub_type`` is None).
        epub_type: ``epub:type`` of a ``<section>`` wrapping ``body``; None for no wrapper.
        body_type: ``epub:type`` of ``<body>`` itself ("frontmatter", "bodymatter", ...).
        title: the document's ``<title>``.
        linear: the spine itemref's ``linear`` attribute.
        head: extra markup before ``<html>`` (a DOCTYPE, entity declarations, ...).
        raw: the whole file as given, instead of generated markup.
    """

    name: str
    body: str = ""
    epub_type: str | None = None
    body_type: str | None = None
    title: str = ""
    linear: bool = True
    head: str = ""
    raw: bytes | None = None


@dataclass(frozen=True)
class TocNode:
    """A table-of-contents entry with optional children."""

    title: str
    href: str
    children: Sequence[TocNode | tuple[object, ...]] = field(default_factory=tuple)


DocLike = Doc | tuple[object, ...]
TocLike = TocNode | tuple[object, ...]


def _doc(value: DocLike) -> Doc:
    if isinstance(value, Doc):
        return value
    name, body, *rest = value
    epub_type = rest[0] if rest else None
    return Doc(str(name), str(body), None if epub_type is None else str(epub_type))


def _node(value: TocLike) -> TocNode:
    if isinstance(value, TocNode):
        return value
    title, href, *rest = value
    children = rest[0] if rest else ()
    return TocNode(str(title), str(href), tuple(children))  # type: ignore[arg-type]


def _href(href: str) -> str:
    return f"{TEXT_DIR}/{href}"


def xhtml_document(doc: Doc, version: int) -> bytes:
    """Return the bytes of a content document."""
    if doc.raw is not None:
        return doc.raw
    body_attr = f' epub:type="{doc.body_type}"' if doc.body_type else ""
    inner = doc.body
    if doc.epub_type:
        inner = f'<section epub:type="{doc.epub_type}">{doc.body}</section>'
    head = doc.head
    if not head and version == 2:
        head = (
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
            '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n'
        )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"{head}"
        f'<html xmlns="{XHTML_NS}" xmlns:epub="{OPS_NS}">\n'
        f"<head><title>{escape(doc.title or doc.name)}</title></head>\n"
        f"<body{body_attr}>{inner}</body>\n"
        "</html>\n"
    )
    return text.encode("utf-8")


def _nav_ol(nodes: Sequence[TocNode]) -> str:
    items = []
    for node in nodes:
        children = [_node(c) for c in node.children]
        sub = _nav_ol(children) if children else ""
        items.append(f'<li><a href="{_href(node.href)}">{escape(node.title)}</a>{sub}</li>')
    return f"<ol>{''.join(items)}</ol>"


def nav_document(toc: Sequence[TocNode], landmarks: Sequence[tuple[str, str, str]]) -> bytes:
    """Return an EPUB 3 navigation document for ``toc`` (and optional landmarks)."""
    marks = ""
    if landmarks:
        lis = "".join(
            f'<li><a epub:type="{t}" href="{_href(h)}">{escape(title)}</a></li>'
            for t, title, h in landmarks
        )
        marks = f'<nav epub:type="landmarks"><h2>Landmarks</h2><ol>{lis}</ol></nav>'
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<html xmlns="{XHTML_NS}" xmlns:epub="{OPS_NS}">\n'
        "<head><title>Contents</title></head>\n"
        '<body epub:type="frontmatter">'
        f'<nav epub:type="toc" id="toc"><h1>Contents</h1>{_nav_ol(toc)}</nav>{marks}'
        "</body>\n</html>\n"
    )
    return text.encode("utf-8")


def ncx_document(title: str, toc: Sequence[TocNode]) -> bytes:
    """Return an EPUB 2 NCX for ``toc``."""
    counter = 0

    def points(nodes: Sequence[TocNode]) -> str:
        nonlocal counter
        out = []
        for node in nodes:
            counter += 1
            n = counter
            children = points([_node(c) for c in node.children])
            out.append(
                f'<navPoint id="np{n}" playOrder="{n}">'
                f"<navLabel><text>{escape(node.title)}</text></navLabel>"
                f'<content src="{_href(node.href)}"/>{children}</navPoint>'
            )
        return "".join(out)

    nav_map = points(toc)
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        '<head><meta name="dtb:uid" content="urn:uuid:test-book"/></head>'
        f"<docTitle><text>{escape(title)}</text></docTitle>"
        f"<navMap>{nav_map}</navMap></ncx>\n"
    )
    return text.encode("utf-8")


CONTAINER_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    f'<rootfiles><rootfile full-path="{OPS_DIR}/content.opf" '
    'media-type="application/oebps-package+xml"/></rootfiles></container>\n'
).encode()


def package_document(
    *,
    version: int,
    title: str,
    author: str,
    language: str,
    docs: Sequence[Doc],
    ncx: bool,
    nav_in_spine: bool,
    guide: Sequence[tuple[str, str, str]],
    cover_image: bool,
    extra_manifest: Sequence[tuple[str, str, str]],
) -> bytes:
    """Return the OPF package document."""
    items = []
    spine = []
    if version == 3:
        items.append(
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
        if nav_in_spine:
            spine.append('<itemref idref="nav"/>')
    if ncx:
        items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    if cover_image:
        props = ' properties="cover-image"' if version == 3 else ""
        items.append(
            f'<item id="cover-image" href="Images/cover.png" media-type="image/png"{props}/>'
        )
    for i, doc in enumerate(docs):
        items.append(
            f'<item id="doc{i}" href="{_href(doc.name)}" media-type="application/xhtml+xml"/>'
        )
        linear = "" if doc.linear else ' linear="no"'
        spine.append(f'<itemref idref="doc{i}"{linear}/>')
    for item_id, href, media_type in extra_manifest:
        items.append(f'<item id="{item_id}" href="{href}" media-type="{media_type}"/>')
    spine_attr = ' toc="ncx"' if ncx else ""
    guide_xml = ""
    if guide:
        refs = "".join(
            f'<reference type="{t}" title="{escape(ti)}" href="{_href(h)}"/>' for t, ti, h in guide
        )
        guide_xml = f"<guide>{refs}</guide>"
    cover_meta = '<meta name="cover" content="cover-image"/>' if cover_image else ""
    modified = (
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>' if version == 3 else ""
    )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" '
        'unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:opf="http://www.idpf.org/2007/opf">'
        '<dc:identifier id="uid">urn:uuid:test-book</dc:identifier>'
        f"<dc:title>{escape(title)}</dc:title>"
        f"<dc:creator>{escape(author)}</dc:creator>"
        f"<dc:language>{escape(language)}</dc:language>{modified}{cover_meta}"
        "</metadata>"
        f"<manifest>{''.join(items)}</manifest>"
        f"<spine{spine_attr}>{''.join(spine)}</spine>{guide_xml}"
        "</package>\n"
    )
    return text.encode("utf-8")


def build_epub(
    path: Path,
    *,
    version: int = 3,
    title: str = "Test Book",
    author: str = "Test Author",
    language: str = "en",
    docs: Sequence[DocLike] = (),
    toc: Sequence[TocLike] = (),
    guide: Sequence[tuple[str, str, str]] = (),
    landmarks: Sequence[tuple[str, str, str]] = (),
    ncx: bool | None = None,
    nav_in_spine: bool = False,
    cover_image: bool = False,
    extra_manifest: Sequence[tuple[str, str, str]] = (),
    extra_entries: Mapping[str, bytes] | None = None,
    omit: Sequence[str] = (),
    mimetype: bytes = b"application/epub+zip",
) -> Path:
    """Write an EPUB to ``path`` and return ``path``.

    Args:
        docs: content documents in spine order: :class:`Doc` or ``(name, body, epub_type)``.
        toc: nested ``(title, href, children)`` entries (or :class:`TocNode`); hrefs are
            relative to ``OEBPS/Text/``.
        guide: EPUB 2 guide ``(type, title, href)`` references.
        landmarks: EPUB 3 landmarks ``(epub_type, title, href)`` in the nav document.
        ncx: write ``toc.ncx``; defaults to True for EPUB 2, False for EPUB 3.
        nav_in_spine: put the EPUB 3 nav document in the spine, first.
        extra_entries: more archive entries, written as given (after the book's own).
        omit: archive entry names to leave out ("META-INF/container.xml", ...).
    """
    if version not in (2, 3):
        raise ValueError("version must be 2 or 3")
    want_ncx = version == 2 if ncx is None else ncx
    all_docs = [_doc(d) for d in docs]
    nodes = [_node(t) for t in toc]
    entries: dict[str, bytes] = {"META-INF/container.xml": CONTAINER_XML}
    entries[f"{OPS_DIR}/content.opf"] = package_document(
        version=version,
        title=title,
        author=author,
        language=language,
        docs=all_docs,
        ncx=want_ncx,
        nav_in_spine=nav_in_spine,
        guide=guide,
        cover_image=cover_image,
        extra_manifest=extra_manifest,
    )
    if version == 3:
        entries[f"{OPS_DIR}/nav.xhtml"] = nav_document(nodes, landmarks)
    if want_ncx:
        entries[f"{OPS_DIR}/toc.ncx"] = ncx_document(title, nodes)
    if cover_image:
        entries[f"{OPS_DIR}/Images/cover.png"] = TINY_PNG
    for doc in all_docs:
        entries[f"{OPS_DIR}/{TEXT_DIR}/{doc.name}"] = xhtml_document(doc, version)
    entries.update(extra_entries or {})
    with zipfile.ZipFile(path, "w") as zf:
        if "mimetype" not in omit:
            zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            if name not in omit:
                zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def zip_directory(source: Path, path: Path, skip: Sequence[str] = ("README.md",)) -> Path:
    """Zip an unpacked EPUB tree (``mimetype`` first and stored) into ``path``."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"),
            (source / "mimetype").read_bytes(),
            compress_type=zipfile.ZIP_STORED,
        )
        for file in sorted(source.rglob("*")):
            rel = file.relative_to(source).as_posix()
            if file.is_file() and rel != "mimetype" and rel not in skip:
                zf.write(file, rel, compress_type=zipfile.ZIP_DEFLATED)
    return path
