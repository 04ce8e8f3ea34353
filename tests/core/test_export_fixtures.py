"""Synthetic narration for the export tests: speech-like takes made in code, never stored.

"Speech" here is a voiced buzz (a 110-220 Hz fundamental with falling harmonics) shaped into
syllables at about 4 per second, words and sentence pauses, with a little breath noise: loud
and quiet parts, a crest factor like a voice's, and true silence between words the way a TTS
engine returns it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.core import audio as audiolib
from studio.core.model import (
    Block,
    BlockId,
    Chapter,
    ChapterId,
    Project,
    Take,
    TakeId,
    Voice,
    VoiceId,
    add_take,
    inputs_hash,
    new_id,
)
from studio.core.store import ProjectStore


def speech(seconds: float, rate: int = 22050, level_db: float = -24.0, seed: int = 0,
           lead_s: float = 0.15, trail_s: float = 0.25) -> np.ndarray:
    """Return float32 speech-like audio of ``seconds`` at about ``level_db`` RMS while speaking.

    It starts with ``lead_s`` and ends with ``trail_s`` of digital silence, as engines do.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 110 + 110 * rng.random() + 15 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k**1.3 for k in range(1, 12))
    envelope = np.zeros(n)
    pos = int(lead_s * rate)
    end = n - int(trail_s * rate)
    while pos < end:
        word = int(rate * (0.18 + 0.35 * rng.random()))
        syll = np.sin(np.pi * np.linspace(0, 1, max(word, 2))) ** 0.8
        syll *= 0.4 + 0.6 * rng.random()
        stop = min(end, pos + word)
        envelope[pos:stop] = syll[: stop - pos]
        pos = stop + int(rate * (0.04 + (0.35 if rng.random() < 0.15 else 0.08) * rng.random()))
    x = envelope * (voiced + 0.05 * rng.standard_normal(n))
    speaking = envelope > 0
    rms = np.sqrt(np.mean(x[speaking] ** 2)) if speaking.any() else 1.0
    x *= 10 ** (level_db / 20) / rms
    return np.clip(x, -1, 1).astype(np.float32)


def make_book(
    chapters: int = 3,
    paragraphs: int = 3,
    seconds: float = 2.0,
    fmt: str = "wav_22050",
    titles: tuple[str, ...] | None = None,
    levels: tuple[float, ...] = (-24.0, -30.0, -20.0),
) -> Project:
    """Return a project whose every paragraph has a current take of synthetic speech."""
    project = Project(title="The Test Book", author="A. Writer")
    project.settings.update({"narrator": "N. Reader", "isbn": "9780000000002",
                             "description": "A book made of tones.", "year": "2025"})
    voice = Voice(VoiceId("v1"), "Narrator", engine="offline", engine_voice_id="en-us")
    project.voices[voice.id] = voice
    project.default_voice_id = voice.id
    seed = 0
    for c in range(chapters):
        title = titles[c] if titles else f"Chapter {c + 1}"
        chapter = Chapter(ChapterId(f"c{c}"), title)
        project.chapters.append(chapter)
        for p in range(paragraphs):
            block = Block(BlockId(f"c{c}p{p}"), f"Paragraph {p + 1} of {title}.")
            chapter.blocks.append(block)
            seed += 1
            add_take(project, synthetic_take(project, block, seconds + 0.3 * (p % 3), fmt,
                                             levels[seed % len(levels)], seed))
    return project


def synthetic_take(project: Project, block: Block, seconds: float, fmt: str, level_db: float,
                   seed: int) -> Take:
    codec, rate = fmt.split("_")[0], audiolib.format_sample_rate(fmt)
    x = speech(seconds, rate, level_db, seed)
    data = audiolib.encode_wav(x, rate) if codec == "wav" else audiolib.encode_mp3(x, rate, 128)
    duration = audiolib.duration(data, fmt)
    return Take(
        id=TakeId(new_id()), block_id=block.id, inputs_hash=inputs_hash(project, block),
        format=fmt, duration=duration, engine="offline", voice_id=project.default_voice_id,
        text=block.text, sample_rate=rate, audio=data,
    )


def save_book(project: Project, path: Path) -> Path:
    ProjectStore.create(path, project).close()
    return path


@pytest.fixture(scope="module")
def book() -> Project:
    return make_book()
