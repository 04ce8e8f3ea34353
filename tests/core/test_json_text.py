"""The project's own JSON text export: exact round trips and clear errors on bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio.core.importing import import_source
from studio.core.importing.json_text import FORMAT, VERSION, dumps
from studio.core.model import (
    DictionaryId,
    DictionaryRef,
    Project,
    Voice,
    VoiceId,
    VoiceSpan,
    add_voice,
    set_block_locked,
    set_block_spans,
    set_block_voice,
    set_dictionaries,
    set_project_meta,
)
from tests.core.factories import import_error

MARKDOWN = """\
# The Quiet Harbour

## The Arrival

The boat came in at dawn, and the whole town watched.

“Who is it?” asked Mary. “Who comes so early?”

## The Departure

She left with the tide. Nobody saw her go.
"""

MARY = VoiceId("voice-mary")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Return an imported project with a second voice, a voiced block, spans and a lock."""
    source = tmp_path / "harbour.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    project, _ = import_source(source, author="Ann Author")
    add_voice(
        project,
        Voice(
            MARY,
            "Mary",
            engine="elevenlabs",
            engine_voice_id="el-123",
            volume_db=-2.5,
            speed=1.1,
            stability=0.3,
            similarity=0.9,
            style=0.2,
            speaker_boost=False,
        ),
    )
    arrival = project.chapters[0].blocks
    set_block_voice(project, arrival[1].id, MARY)
    set_block_spans(project, arrival[1].id, [VoiceSpan(0, 13, MARY), VoiceSpan(30, 44, MARY)])
    set_block_locked(project, arrival[0].id, True)
    set_dictionaries(project, [DictionaryRef(DictionaryId("dict-1"), "Names", 3, "el-d", "el-v")])
    set_project_meta(project, settings={**project.settings, "paragraph_pause_s": 0.8})
    return project


def _export(project: Project, path: Path) -> Path:
    path.write_text(dumps(project), encoding="utf-8")
    return path


def test_round_trip_is_byte_identical(project: Project, tmp_path: Path) -> None:
    text = dumps(project)
    restored, report = import_source(_export(project, tmp_path / "harbour.json"))
    assert dumps(restored) == text
    assert report.format == "studio-json"
    assert (report.title, report.author) == ("The Quiet Harbour", "Ann Author")
    assert [c.title for c in report.chapters] == ["The Arrival", "The Departure"]
    assert report.paragraphs == 3


def test_round_trip_keeps_chapters_blocks_and_voices(project: Project, tmp_path: Path) -> None:
    restored, _ = import_source(_export(project, tmp_path / "harbour.json"))
    assert restored.id == project.id
    assert restored.default_voice_id == project.default_voice_id
    assert restored.settings["paragraph_pause_s"] == 0.8
    assert restored.voices == project.voices
    assert restored.voices[MARY].speaker_boost is False
    assert restored.dictionaries == project.dictionaries
    assert restored.chapters == project.chapters
    block = restored.chapters[0].blocks[1]
    assert block.voice_id == MARY
    assert block.spans == (VoiceSpan(0, 13, MARY), VoiceSpan(30, 44, MARY))
    assert restored.chapters[0].blocks[0].locked is True
    assert [b.locked for c in restored.chapters for b in c.blocks] == [True, False, False]
    assert restored == project


def test_export_is_readable_json_with_format_and_version(project: Project) -> None:
    data = json.loads(dumps(project))
    assert (data["format"], data["version"]) == (FORMAT, VERSION)
    assert "“Who is it?”" in dumps(project)  # not \u201c escapes: the file is for people too


def test_title_and_author_arguments_override_the_file(project: Project, tmp_path: Path) -> None:
    restored, report = import_source(
        _export(project, tmp_path / "harbour.json"), title="New Title", author="New Author"
    )
    assert (restored.title, restored.author) == ("New Title", "New Author")
    assert (report.title, report.author) == ("New Title", "New Author")


# ---------------------------------------------------------------------------------------------
# Bad files



def _broken(project: Project, tmp_path: Path, change: Any) -> Path:
    data = json.loads(dumps(project))
    change(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n "format": "narrator-studio/text",\n "version": 1,\n "project": {,\n}\n')
    message = import_error(path)
    assert "not valid JSON" in message and "line 4" in message and "column 14" in message


def test_wrong_format_marker(project: Project, tmp_path: Path) -> None:
    path = _broken(project, tmp_path, lambda d: d.update(format="some-other-app/project"))
    assert "not a Narrator Studio text export" in import_error(path)


def test_plain_json_is_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"name": "not ours"}', encoding="utf-8")
    assert "not a Narrator Studio text export" in import_error(path)


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    assert "must be an object" in import_error(path)


def test_newer_version(project: Project, tmp_path: Path) -> None:
    path = _broken(project, tmp_path, lambda d: d.update(version=VERSION + 1))
    message = import_error(path)
    assert "newer Narrator Studio" in message and f"text format {VERSION + 1}" in message


@pytest.mark.parametrize("version", ["1", 0, -3, True, None, 1.5])
def test_malformed_version(project: Project, tmp_path: Path, version: Any) -> None:
    path = _broken(project, tmp_path, lambda d: d.update(version=version))
    message = import_error(path)
    assert "version" in message and "newer" not in message


def _set_block(field: str, value: Any) -> Any:
    def change(d: dict[str, Any]) -> None:
        d["chapters"][0]["blocks"][1][field] = value

    return change


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (_set_block("text", 5), "chapters[0].blocks[1].text", "must be text"),
        (_set_block("locked", "yes"), "chapters[0].blocks[1].locked", "true or false"),
        (_set_block("voice_id", "nobody"), "chapters[0].blocks[1].voice_id", "not in 'voices'"),
        (
            _set_block("spans", [[0, 999, "voice-mary"]]),
            "chapters[0].blocks[1].spans[0]",
            "in the text",
        ),
        (_set_block("spans", [[0, 5, "nobody"]]), "chapters[0].blocks[1].spans[0]", "voice id"),
        (
            _set_block("spans", [[0, 10, "voice-mary"], [5, 15, "voice-mary"]]),
            "chapters[0].blocks[1].spans[1]",
            "overlaps",
        ),
        (_set_block("spans", "all of it"), "chapters[0].blocks[1].spans", "must be a list"),
        (lambda d: d["chapters"][1].update(title=None), "chapters[1].title", "must be text"),
        (
            lambda d: d["chapters"][1]["blocks"][0].update(id=d["chapters"][0]["blocks"][0]["id"]),
            "chapters[1].blocks[0].id",
            "repeats",
        ),
        (lambda d: d["voices"][1].update(speed="fast"), "voices[1].speed", "must be a number"),
        (lambda d: d["voices"][1].update(speed=float("nan")), "voices[1].speed", "finite"),
        (lambda d: d["voices"][1].update(volume_db=float("inf")), "voices[1].volume_db", "finite"),
        (lambda d: d["voices"][1].update(stability=1.5), "voices[1].stability", "from 0 to 1"),
        (
            lambda d: d["chapters"][1].update(id=d["chapters"][0]["id"]),
            "chapters[1].id",
            "repeats another chapter",
        ),
        (
            lambda d: d["voices"][1].update(id=d["voices"][0]["id"]),
            "voices[1].id",
            "repeats another voice",
        ),
        (
            lambda d: d["voices"][1].update(speaker_boost=1),
            "voices[1].speaker_boost",
            "true or false",
        ),
        (
            lambda d: d["project"].update(default_voice_id="ghost"),
            "project.default_voice_id",
            "not in 'voices'",
        ),
        (lambda d: d["project"].update(settings=[]), "project.settings", "must be an object"),
        (lambda d: d.update(chapters={}), "chapters", "must be a list"),
        (lambda d: d["dictionaries"][0].update(name=7), "dictionaries[0].name", "must be text"),
    ],
)
def test_bad_field_names_its_path(
    project: Project, tmp_path: Path, change: Any, where: str, problem: str
) -> None:
    message = import_error(_broken(project, tmp_path, change))
    assert f"{where} " in message and problem in message, message


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    assert "nested too deeply" in import_error(path)


def test_export_without_paragraphs_has_nothing_to_narrate(project: Project, tmp_path: Path) -> None:
    path = _broken(project, tmp_path, lambda d: d.update(chapters=[]))
    assert "no text to narrate" in import_error(path)
