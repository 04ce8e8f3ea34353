"""A strict structural check of an EPUB 3 with media overlays (our own, beside EPUBCheck).

It checks the rules a reader depends on: the OCF container (``mimetype`` first and stored,
``container.xml``), every XHTML, SMIL and OPF document parses as XML, unique ids, a manifest
whose items exist (and nothing in the ZIP that is not listed), a nav document, media-overlay
attributes pointing at SMIL items, ``media:duration`` per overlay summing to the total and
equal to the overlay's clips, an active class, SMIL text references resolving to ids in their
XHTML, and clip times inside the MP3's duration as mutagen reads it.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree
from mutagen.mp3 import MP3

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
SMIL = "{http://www.w3.org/ns/SMIL}"
EPUB = "{http://www.idpf.org/2007/ops}"
XHTML = "{http://www.w3.org/1999/xhtml}"
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$|^(\d+(?:\.\d+)?)(h|min|s|ms)?$")


def parse_clock(value: str) -> float:
    """Return seconds for a SMIL clock value (full, partial or timecount)."""
    m = _CLOCK.match(value.strip())
    if not m:
        raise ValueError(f"not a SMIL clock value: {value!r}")
    if m.group(4) is not None:
        scale = {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 0.001, None: 1.0}[m.group(5)]
        return float(m.group(4)) * scale
    return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def check_epub(path: Path) -> list[str]:
    """Return the problems found in the EPUB at ``path`` (empty: none)."""
    problems: list[str] = []
    zf = zipfile.ZipFile(path)
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if not infos or infos[0].filename != "mimetype":
        problems.append("mimetype is not the first entry")
    elif infos[0].compress_type != zipfile.ZIP_STORED or infos[0].extra:
        problems.append("mimetype is compressed or has an extra field")
    elif zf.read("mimetype") != b"application/epub+zip":
        problems.append("mimetype has the wrong content")
    if len(set(names)) != len(names):
        problems.append("duplicate ZIP entries")
    container = etree.fromstring(zf.read("META-INF/container.xml"))
    rootfiles = container.findall(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
    if len(rootfiles) != 1:
        return [*problems, "container.xml must name one package document"]
    opf_path = rootfiles[0].get("full-path", "")
    opf = etree.fromstring(zf.read(opf_path))

    def resolve(href: str, relative_to: str) -> str:
        return posixpath.normpath(posixpath.join(posixpath.dirname(relative_to), href))

    if opf.get("version") != "3.0":
        problems.append("package version is not 3.0")
    ids = [e.get("id") for e in opf.iter() if e.get("id")]
    if len(ids) != len(set(ids)):
        problems.append("package ids are not unique")
    metadata = opf.find(f"{OPF}metadata")
    uid = opf.get("unique-identifier")
    if metadata is None or metadata.find(f"{DC}identifier[@id='{uid}']") is None:
        problems.append("no dc:identifier for the unique-identifier")
    for required in ("title", "language"):
        if metadata is None or not (metadata.findtext(f"{DC}{required}") or "").strip():
            problems.append(f"no dc:{required}")
    metas = {} if metadata is None else {
        (m.get("property"), m.get("refines")): (m.text or "") for m in metadata.findall(
            f"{OPF}meta")}
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", metas.get(("dcterms:modified", None),
                                                                    "")):
        problems.append("dcterms:modified missing or malformed")
    if not metas.get(("media:active-class", None)):
        problems.append("no media:active-class")

    items = {i.get("id"): i for i in opf.iter(f"{OPF}item")}
    listed = set()
    for item_id, item in items.items():
        full = resolve(item.get("href", ""), opf_path)
        listed.add(full)
        if full not in names:
            problems.append(f"manifest item {item_id} ({full}) is not in the ZIP")
    extra = set(names) - listed - {"mimetype", "META-INF/container.xml", opf_path}
    if extra:
        problems.append(f"files not in the manifest: {sorted(extra)}")
    navs = [i for i in items.values() if "nav" in (i.get("properties") or "").split()]
    if len(navs) != 1:
        problems.append("there must be exactly one nav document")
    for ref in opf.iter(f"{OPF}itemref"):
        if ref.get("idref") not in items:
            problems.append(f"spine refers to unknown item {ref.get('idref')}")

    documents: dict[str, etree._Element] = {}
    for item in items.values():
        full = resolve(item.get("href", ""), opf_path)
        if item.get("media-type") in ("application/xhtml+xml", "application/smil+xml"):
            try:
                documents[full] = etree.fromstring(zf.read(full))
            except etree.XMLSyntaxError as exc:
                problems.append(f"{full}: not well-formed XML ({exc})")
    for full, doc in documents.items():
        doc_ids = [e.get("id") for e in doc.iter() if e.get("id")]
        if len(doc_ids) != len(set(doc_ids)):
            problems.append(f"{full}: ids are not unique")
    for nav in navs:
        doc = documents.get(resolve(nav.get("href", ""), opf_path))
        if doc is None or not [n for n in doc.iter(f"{XHTML}nav") if n.get(f"{EPUB}type") ==
                               "toc"]:
            problems.append("the nav document has no toc nav")

    durations: list[float] = []
    audio_lengths: dict[str, float] = {}
    for item_id, item in items.items():
        overlay_id = item.get("media-overlay")
        if overlay_id is None:
            continue
        overlay = items.get(overlay_id)
        if overlay is None or overlay.get("media-type") != "application/smil+xml":
            problems.append(f"{item_id}: media-overlay {overlay_id} is not a SMIL item")
            continue
        smil_path = resolve(overlay.get("href", ""), opf_path)
        smil = documents[smil_path]
        declared = metas.get(("media:duration", f"#{overlay_id}"))
        if declared is None:
            problems.append(f"{overlay_id}: no media:duration")
            continue
        clips = 0.0
        pars = list(smil.iter(f"{SMIL}par"))
        if not pars:
            problems.append(f"{smil_path}: no par")
        for par in pars:
            text = par.find(f"{SMIL}text")
            audio = par.find(f"{SMIL}audio")
            if text is None or audio is None:
                problems.append(f"{smil_path}: a par without text or audio")
                continue
            doc_href, _, fragment = text.get("src", "").partition("#")
            doc_path = resolve(doc_href, smil_path)
            doc = documents.get(doc_path)
            if doc_path != resolve(item.get("href", ""), opf_path):
                problems.append(f"{smil_path}: text refers to another document {doc_path}")
            if doc is None or not doc.xpath("//*[@id=$f]", f=fragment):
                problems.append(f"{smil_path}: text target {doc_path}#{fragment} does not exist")
            audio_path = resolve(audio.get("src", ""), smil_path)
            if audio_path not in names:
                problems.append(f"{smil_path}: audio {audio_path} is not in the ZIP")
                continue
            if audio_path not in audio_lengths:
                audio_lengths[audio_path] = MP3(io.BytesIO(zf.read(audio_path))).info.length
            begin = parse_clock(audio.get("clipBegin", "0"))
            end = parse_clock(audio.get("clipEnd", "0"))
            if not 0 <= begin < end <= audio_lengths[audio_path] + 0.001:
                problems.append(f"{smil_path}: clip {begin}-{end} outside the audio "
                                f"(0-{audio_lengths[audio_path]:.3f})")
            clips += end - begin
        if abs(parse_clock(declared) - clips) > 0.002 * max(1, len(pars)):
            problems.append(f"{overlay_id}: media:duration {declared} != its clips {clips:.3f}")
        durations.append(parse_clock(declared))
    total = metas.get(("media:duration", None))
    if durations and (total is None or abs(parse_clock(total) - sum(durations)) > 0.001):
        problems.append(f"total media:duration {total} != the sum {sum(durations):.3f}")
    return problems
