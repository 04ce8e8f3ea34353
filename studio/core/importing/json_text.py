"""The project's own JSON text export (``studio export-text``) and its reader.

The export holds everything but audio: metadata, settings, the cast, dictionary references
and every chapter and paragraph with its voice, spans and lock, ids included, so that
importing it gives back an identical project (without takes). Its layout is versioned by
``"format"`` and ``"version"``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook
from studio.core.importing.safety import MAX_TEXT_BYTES, decode_text, read_file
from studio.core.model import (
    Block,
    BlockId,
    Chapter,
    ChapterId,
    DictionaryId,
    DictionaryRef,
    Project,
    ProjectId,
    Voice,
    VoiceId,
    VoiceSpan,
)

FORMAT = "narrator-studio/text"
VERSION = 1


def project_to_json(project: Project) -> dict[str, Any]:
    """Return the project's text (no audio) as JSON data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "project": {
            "id": project.id,
            "title": project.title,
            "author": project.author,
            "language": project.language,
            "model_id": project.model_id,
            "default_voice_id": project.default_voice_id,
            "settings": project.settings,
        },
        "voices": [
            {
                "id": v.id,
                "alias": v.alias,
                "engine": v.engine,
                "engine_voice_id": v.engine_voice_id,
                "volume_db": v.volume_db,
                "speed": v.speed,
                "stability": v.stability,
                "similarity": v.similarity,
                "style": v.style,
                "speaker_boost": v.speaker_boost,
            }
            for v in project.voices.values()
        ],
        "dictionaries": [
            {
                "id": d.id,
                "name": d.name,
                "version": d.version,
                "engine_dictionary_id": d.engine_dictionary_id,
                "engine_version_id": d.engine_version_id,
            }
            for d in project.dictionaries
        ],
        "chapters": [
            {
                "id": c.id,
                "title": c.title,
                "blocks": [
                    {
                        "id": b.id,
                        "text": b.text,
                        "voice_id": b.voice_id,
                        "spans": [[s.start, s.end, s.voice_id] for s in b.spans],
                        "locked": b.locked,
                    }
                    for b in c.blocks
                ],
            }
            for c in project.chapters
        ],
    }


def dumps(project: Project) -> str:
    """Return the JSON text export of ``project``."""
    return json.dumps(project_to_json(project), ensure_ascii=False, indent=1) + "\n"


class _Reader:
    """Typed access to untrusted JSON with errors that say where the problem is."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> TextImportError:
        return TextImportError(self.source, f"{where} {problem}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object")
        return value

    def lst(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        return value

    def str_(self, d: dict[str, Any], key: str, where: str, optional: bool = False) -> Any:
        value = d.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", "must be text")
        return value

    def num(
        self,
        d: dict[str, Any],
        key: str,
        where: str,
        default: float,
        lo: float = -math.inf,
        hi: float = math.inf,
    ) -> float:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", "must be a number")
        if not math.isfinite(value) or not lo <= value <= hi:
            span = f" from {lo:g} to {hi:g}" if math.isfinite(lo) else ""
            raise self.fail(f"{where}.{key}", f"must be a finite number{span}")
        return float(value)

    def bool_(self, d: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = d.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "must be true or false")
        return value


def project_from_json(data: Any, source: Path) -> Project:
    """Rebuild a project from its JSON text export, validating every field."""
    r = _Reader(source)
    top = r.obj(data, "the file")
    if top.get("format") != FORMAT:
        raise TextImportError(source, "is JSON but not a Narrator Studio text export")
    version = top.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise r.fail("version", f"must be a text format number, not {json.dumps(version)}")
    if version > VERSION:
        raise TextImportError(
            source, f"was written by a newer Narrator Studio (text format {version})"
        )
    meta = r.obj(top.get("project"), "project")
    settings = meta.get("settings", {})
    project = Project(
        id=ProjectId(r.str_(meta, "id", "project")),
        title=r.str_(meta, "title", "project"),
        author=r.str_(meta, "author", "project"),
        language=r.str_(meta, "language", "project"),
        model_id=r.str_(meta, "model_id", "project"),
        default_voice_id=r.str_(meta, "default_voice_id", "project", optional=True),
        settings=dict(r.obj(settings, "project.settings")),
    )
    for i, v in enumerate(r.lst(top.get("voices", []), "voices")):
        where = f"voices[{i}]"
        v = r.obj(v, where)
        voice = Voice(
            id=VoiceId(r.str_(v, "id", where)),
            alias=r.str_(v, "alias", where),
            engine=r.str_(v, "engine", where),
            engine_voice_id=r.str_(v, "engine_voice_id", where),
            volume_db=r.num(v, "volume_db", where, 0.0),
            speed=r.num(v, "speed", where, 1.0, 0.25, 4.0),
            stability=r.num(v, "stability", where, 0.5, 0.0, 1.0),
            similarity=r.num(v, "similarity", where, 0.75, 0.0, 1.0),
            style=r.num(v, "style", where, 0.0, 0.0, 1.0),
            speaker_boost=r.bool_(v, "speaker_boost", where, True),
        )
        if voice.id in project.voices:
            raise r.fail(f"{where}.id", "repeats another voice's id")
        project.voices[voice.id] = voice
    if project.default_voice_id and project.default_voice_id not in project.voices:
        raise r.fail("project.default_voice_id", "names a voice that is not in 'voices'")
    for i, d in enumerate(r.lst(top.get("dictionaries", []), "dictionaries")):
        where = f"dictionaries[{i}]"
        d = r.obj(d, where)
        project.dictionaries.append(
            DictionaryRef(
                id=DictionaryId(r.str_(d, "id", where)),
                name=r.str_(d, "name", where),
                version=int(r.num(d, "version", where, 1)),
                engine_dictionary_id=r.str_(d, "engine_dictionary_id", where, optional=True),
                engine_version_id=r.str_(d, "engine_version_id", where, optional=True),
            )
        )
    seen: set[str] = set()
    chapter_ids: set[str] = set()
    for ci, c in enumerate(r.lst(top.get("chapters"), "chapters")):
        where = f"chapters[{ci}]"
        c = r.obj(c, where)
        chapter = Chapter(ChapterId(r.str_(c, "id", where)), r.str_(c, "title", where))
        if chapter.id in chapter_ids:
            raise r.fail(f"{where}.id", "repeats another chapter's id")
        chapter_ids.add(chapter.id)
        for bi, b in enumerate(r.lst(c.get("blocks", []), f"{where}.blocks")):
            bw = f"{where}.blocks[{bi}]"
            b = r.obj(b, bw)
            block_id = r.str_(b, "id", bw)
            if block_id in seen:
                raise r.fail(f"{bw}.id", "repeats another paragraph's id")
            seen.add(block_id)
            voice_id = r.str_(b, "voice_id", bw, optional=True)
            if voice_id is not None and voice_id not in project.voices:
                raise r.fail(f"{bw}.voice_id", "names a voice that is not in 'voices'")
            text = r.str_(b, "text", bw)
            spans: list[VoiceSpan] = []
            for si, s in enumerate(r.lst(b.get("spans", []), f"{bw}.spans")):
                ok = (
                    isinstance(s, list)
                    and len(s) == 3
                    and all(isinstance(x, int) and not isinstance(x, bool) for x in s[:2])
                    and isinstance(s[2], str)
                    and s[2] in project.voices
                    and 0 <= s[0] < s[1] <= len(text)
                )
                if not ok:
                    raise r.fail(f"{bw}.spans[{si}]", "must be [start, end, voice id] in the text")
                # The model keeps spans sorted and apart (set_block_spans); so must a file.
                if spans and s[0] < spans[-1].end:
                    raise r.fail(f"{bw}.spans[{si}]", "overlaps or precedes the span before it")
                spans.append(VoiceSpan(s[0], s[1], VoiceId(s[2])))
            chapter.blocks.append(
                Block(
                    BlockId(block_id),
                    text,
                    voice_id=VoiceId(voice_id) if voice_id else None,
                    spans=tuple(spans),
                    locked=r.bool_(b, "locked", bw, False),
                )
            )
        project.chapters.append(chapter)
    return project


def read(path: Path) -> RawBook:
    """Read a project's JSON text export."""
    text, _ = decode_text(read_file(path, MAX_TEXT_BYTES), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TextImportError(
            path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise TextImportError(path, "is JSON nested too deeply to read") from None
    project = project_from_json(data, path)
    return RawBook(format="studio-json", title=project.title, author=project.author,
                   project=project)
