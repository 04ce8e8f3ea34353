"""Cheap builders for core tests (Anki's ``getEmptyCol`` idea)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from studio.core.errors import TextImportError
from studio.core.importing import import_source
from studio.core.model import (
    Block,
    BlockId,
    Chapter,
    ChapterId,
    CharTimings,
    PeakSummary,
    Project,
    Take,
    TakeId,
    Voice,
    VoiceId,
    WordTiming,
    inputs_hash,
    new_id,
)


def make_project(chapters: int = 2, blocks: int = 3) -> Project:
    """Return a project with a narrator voice and numbered chapters of numbered paragraphs."""
    project = Project(title="Test Book", author="A. Writer")
    voice = Voice(
        VoiceId("v-narrator"), "Narrator", engine="elevenlabs",
        engine_voice_id="21m00Tcm4TlvDq8ikWAM",
    )
    project.voices[voice.id] = voice
    project.default_voice_id = voice.id
    for c in range(chapters):
        chapter = Chapter(ChapterId(f"c{c}"), f"Chapter {c + 1}")
        for b in range(blocks):
            chapter.blocks.append(
                Block(BlockId(f"c{c}b{b}"), f"Paragraph {b + 1} of chapter {c + 1}.")
            )
        project.chapters.append(chapter)
    return project


def wav_bytes(seconds: float = 0.2, rate: int = 22050) -> bytes:
    """Return a small mono 16-bit WAV with a 440 Hz tone."""
    n = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(n)
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(samples), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16,
        b"data", len(samples),
    )
    return header + samples


def make_take(project: Project, block_id: BlockId, audio: bytes | None = None) -> Take:
    """Return a current (not stale) take for ``block_id`` with audio, timings and peaks."""
    block = project.block(block_id)
    text = block.text
    return Take(
        id=TakeId(new_id()),
        block_id=block_id,
        inputs_hash=inputs_hash(project, block),
        format="wav_22050",
        duration=0.2,
        engine="offline",
        voice_id=block.voice_id or project.default_voice_id,
        model_id=project.model_id,
        settings={"speed": 1.0},
        text=text,
        sample_rate=22050,
        request_id="r" * 20,
        cost=len(text),
        char_timings=CharTimings(
            tuple(text), tuple(i * 0.01 for i in range(len(text))),
            tuple(i * 0.01 + 0.01 for i in range(len(text))),
        ),
        word_timings=(WordTiming(text.split()[0], 0, len(text.split()[0]), 0.0, 0.05),),
        audio=audio if audio is not None else wav_bytes(),
        peaks_fine=PeakSummary(256, 22050, bytes([0, 10, 246, 20])),
        peaks_coarse=PeakSummary(65536, 22050, bytes([246, 20])),
    )


def import_error(path: Path) -> str:
    """Import ``path``, expecting failure; return the message, which must name the file."""
    with pytest.raises(TextImportError) as info:
        import_source(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert info.value.source.startswith(str(path))
    return message
