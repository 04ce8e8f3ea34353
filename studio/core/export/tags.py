"""Write tags, cover art and chapter marks into exported files with mutagen.

Where each field goes:

=============  ======================  ===========================  ======================
field          MP3 (ID3v2.3)           M4B (iTunes atoms)           FLAC (Vorbis comments)
=============  ======================  ===========================  ======================
title          TIT2                    ©nam                         TITLE
author         TPE1, TPE2              ©ART, aART                   ARTIST, ALBUMARTIST
narrator       TCOM                    ©wrt, ----:NARRATOR          PERFORMER, COMPOSER
album          TALB                    ©alb                         ALBUM
year           TDRC (TYER)             ©day                         DATE
track          TRCK n/N                trkn                         TRACKNUMBER, TRACKTOTAL
genre          TCON                    ©gen, stik = audiobook       GENRE
description    COMM                    desc, ldes                   DESCRIPTION
ISBN           TXXX:ISBN               ----:ISBN                    ISBN
publisher      TPUB                    ----:PUBLISHER               PUBLISHER
cover          APIC (front cover)      covr                         PICTURE block
chapters       CHAP + CTOC             (written by ffmpeg: QuickTime  CHAPTERnnn, CHAPTERnnnNAME
                                       chapter track and Nero chpl)
=============  ======================  ===========================  ======================

WAV files get the RIFF INFO chunk from ffmpeg (title, artist, album, date, track, genre,
comment) and, below 4 GiB, an ``id3 `` chunk like an MP3's.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.export.options import ExportError, ExportFormat, Metadata

_STIK_AUDIOBOOK = 2


def _mutagen(module: str) -> Any:
    """Return a mutagen module, untyped (mutagen's classes have no annotations)."""
    return importlib.import_module(f"mutagen.{module}")


_WAV_ID3_LIMIT = 4 * 1024**3 - 16 * 1024**2


@dataclass(frozen=True, slots=True)
class ChapterMark:
    """A chapter in a file: its title and ``[start, end)`` in seconds."""

    title: str
    start: float
    end: float


def info_tags(meta: Metadata, title: str, track: int, tracks: int) -> dict[str, str]:
    """Return ffmpeg metadata keys for a WAV's INFO chunk and an M4B's global title."""
    return {
        "title": title,
        "artist": meta.author,
        "album": meta.album_title,
        "date": meta.year,
        "track": f"{track}/{tracks}",
        "genre": meta.genre,
        "comment": meta.description[:1000],
    }


def _id3(meta: Metadata, title: str, track: int, tracks: int,
         chapters: Sequence[ChapterMark]) -> Any:
    id3 = _mutagen("id3")

    tags = id3.ID3()
    tags.add(id3.TIT2(encoding=3, text=title))
    if meta.author:
        tags.add(id3.TPE1(encoding=3, text=meta.author))
        tags.add(id3.TPE2(encoding=3, text=meta.author))
    if meta.narrator:
        tags.add(id3.TCOM(encoding=3, text=meta.narrator))
    if meta.album_title:
        tags.add(id3.TALB(encoding=3, text=meta.album_title))
    if meta.year:
        tags.add(id3.TDRC(encoding=3, text=meta.year))
    tags.add(id3.TRCK(encoding=3, text=f"{track}/{tracks}"))
    if meta.genre:
        tags.add(id3.TCON(encoding=3, text=meta.genre))
    if meta.publisher:
        tags.add(id3.TPUB(encoding=3, text=meta.publisher))
    if meta.description:
        tags.add(id3.COMM(encoding=3, lang="eng", desc="", text=meta.description))
    if meta.isbn:
        tags.add(id3.TXXX(encoding=3, desc="ISBN", text=meta.isbn))
    if meta.cover:
        tags.add(id3.APIC(encoding=3, mime=meta.cover_mime, type=id3.PictureType.COVER_FRONT,
                          desc="Cover", data=meta.cover))
    if len(chapters) > 1:
        ids = [f"chp{i}" for i in range(len(chapters))]
        tags.add(id3.CTOC(element_id="toc", flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                          child_element_ids=ids,
                          sub_frames=[id3.TIT2(encoding=3, text=meta.album_title or title)]))
        for element, mark in zip(ids, chapters, strict=True):
            tags.add(id3.CHAP(element_id=element, start_time=round(mark.start * 1000),
                              end_time=round(mark.end * 1000),
                              sub_frames=[id3.TIT2(encoding=3, text=mark.title)]))
    return tags


def _mp4(path: Path, meta: Metadata, title: str, track: int, tracks: int) -> None:
    mp4 = _mutagen("mp4")
    MP4, MP4Cover, MP4FreeForm = mp4.MP4, mp4.MP4Cover, mp4.MP4FreeForm
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags["©nam"] = [title]
    if meta.author:
        tags["©ART"] = [meta.author]
        tags["aART"] = [meta.author]
    if meta.narrator:
        tags["©wrt"] = [meta.narrator]
        tags["----:com.apple.iTunes:NARRATOR"] = [MP4FreeForm(meta.narrator.encode("utf-8"))]
    if meta.album_title:
        tags["©alb"] = [meta.album_title]
    if meta.year:
        tags["©day"] = [meta.year]
    tags["trkn"] = [(track, tracks)]
    if meta.genre:
        tags["©gen"] = [meta.genre]
    tags["stik"] = [_STIK_AUDIOBOOK]
    if meta.description:
        tags["desc"] = [meta.description[:255]]
        tags["ldes"] = [meta.description]
    if meta.isbn:
        tags["----:com.apple.iTunes:ISBN"] = [MP4FreeForm(meta.isbn.encode("utf-8"))]
    if meta.publisher:
        tags["----:com.apple.iTunes:PUBLISHER"] = [MP4FreeForm(meta.publisher.encode("utf-8"))]
    if meta.cover:
        kind = MP4Cover.FORMAT_PNG if meta.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(meta.cover, imageformat=kind)]
    audio.save()


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _flac(path: Path, meta: Metadata, title: str, track: int, tracks: int,
          chapters: Sequence[ChapterMark]) -> None:
    flac = _mutagen("flac")
    audio = flac.FLAC(path)
    if audio.tags is None:
        audio.add_tags()
    values = {
        "TITLE": title, "ARTIST": meta.author, "ALBUMARTIST": meta.author,
        "PERFORMER": meta.narrator, "COMPOSER": meta.narrator, "ALBUM": meta.album_title,
        "DATE": meta.year, "TRACKNUMBER": str(track), "TRACKTOTAL": str(tracks),
        "GENRE": meta.genre, "DESCRIPTION": meta.description, "ISBN": meta.isbn,
        "PUBLISHER": meta.publisher,
    }
    for key, value in values.items():
        if value:
            audio[key] = value
    if len(chapters) > 1:
        for n, mark in enumerate(chapters, 1):
            audio[f"CHAPTER{n:03d}"] = _timestamp(mark.start)
            audio[f"CHAPTER{n:03d}NAME"] = mark.title
    if meta.cover:
        picture = flac.Picture()
        picture.type = 3  # front cover
        picture.mime = meta.cover_mime
        picture.desc = "Cover"
        picture.data = meta.cover
        audio.add_picture(picture)
    audio.save()


def write_tags(
    path: Path,
    fmt: ExportFormat,
    meta: Metadata,
    title: str,
    track: int,
    tracks: int,
    chapters: Sequence[ChapterMark] = (),
) -> None:
    """Tag the finished file at ``path``.

    Raises:
        ExportError: mutagen could not write the tags.
    """
    from mutagen import MutagenError

    try:
        if fmt is ExportFormat.MP3:
            _id3(meta, title, track, tracks, chapters).save(path, v2_version=3)
        elif fmt is ExportFormat.M4B:
            _mp4(path, meta, title, track, tracks)
        elif fmt is ExportFormat.FLAC:
            _flac(path, meta, title, track, tracks, chapters)
        elif fmt is ExportFormat.WAV and path.stat().st_size < _WAV_ID3_LIMIT:
            wave = _mutagen("wave").WAVE(path)
            if wave.tags is None:
                wave.add_tags()
            for frame in _id3(meta, title, track, tracks, chapters).values():
                wave.tags.add(frame)
            wave.save(v2_version=3)  # into the RIFF "id3 " chunk
    except (MutagenError, OSError) as exc:
        raise ExportError(f"{path.name}: cannot write its tags ({exc})") from None
