"""From a cast sheet to voices: propose a voice per character, then apply as voice spans.

Proposals match the engine's voice labels (``gender``, ``age``, ``accent``) against what
detection knows of a character, prefer voices not yet used (the narrator's last), and give
the characters with most lines first pick. Applying gives each character a project voice
(alias = name at first) linked to them in ``project.settings["cast"]``, so renaming the
voice keeps the link, and puts a voice span on each of their quoted lines;
narration and unattributed lines stay with the paragraph's voice. Changing a character's
voice later (:func:`studio.core.model.update_voice`) makes stale exactly the paragraphs
holding their lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from studio.core.casting.detect import CastSheet, Character, Line
from studio.core.engines import EngineVoice
from studio.core.errors import EditError
from studio.core.model import (
    BlockId,
    Changes,
    Project,
    Voice,
    VoiceId,
    VoiceSpan,
    add_voice,
    new_id,
)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed voice for a character, with why it was chosen."""

    character_id: str
    voice: EngineVoice
    score: float
    reasons: tuple[str, ...]


def _labels(voice: EngineVoice) -> dict[str, str]:
    labels = {k.lower(): v.lower() for k, v in voice.labels.items()}
    variant = labels.get("variant", "")
    if "age" not in labels and variant in ("grandma", "grandpa"):  # espeak-ng variants
        labels["age"] = "old"
    return labels


def _accent_of(labels: Mapping[str, str]) -> str:
    return labels.get("accent") or labels.get("language", "")


def _score(character: Character, voice: EngineVoice, accent: str,
           narrator: Mapping[str, str] | None = None) -> tuple[float, list[str]]:
    labels = _labels(voice)
    score = 0.0
    reasons: list[str] = []
    gender = labels.get("gender", "")
    if character.gender and gender:
        if gender == character.gender:
            score += 3
            reasons.append(f"gender {gender}")
        else:
            score -= 5
    age = labels.get("age", "")
    if character.age and age and character.age in age:
        score += 1
        reasons.append(f"age {age}")
    if accent and accent in labels.get("accent", "") + labels.get("language", ""):
        score += 1
        reasons.append(f"accent {labels.get('accent') or labels.get('language')}")
    elif not accent and narrator is not None and _accent_of(narrator):
        # No accent asked for: the narrator's, and never another language.
        mine, theirs = _accent_of(labels), _accent_of(narrator)
        if mine == theirs:
            score += 2
            reasons.append(f"accent {mine} (the narrator's)")
        elif mine[:2] != theirs[:2] and labels.get("language", "")[:2] != narrator.get(
                "language", "")[:2]:
            score -= 6
    if "whisper" in labels.get("variant", ""):
        score -= 3  # a whispering voice is a choice, not a default
    return score, reasons


def propose_voices(
    sheet: CastSheet,
    voices: Sequence[EngineVoice],
    *,
    narrator_voice_id: str | None = None,
    accent: str = "",
    limit: int | None = None,
) -> list[Proposal]:
    """Return a proposed engine voice for each character (most lines first).

    Args:
        voices: the engine's voice list (:meth:`Engine.voices`).
        narrator_voice_id: the narrator's engine voice, used for a character only when
            nothing else fits.
        accent: the book's accent or language hint (e.g. "british"), matched on labels;
            by default the narrator voice's accent (or language), so an en-us narrator gets
            en-us characters and never a voice of another language.
        limit: propose for at most this many characters (the rest stay with the narrator).
    """
    if not voices:
        return []
    used: dict[str, int] = {}
    out: list[Proposal] = []
    narrator = next((_labels(v) for v in voices if v.voice_id == narrator_voice_id), None)
    for character in sheet.characters[:limit]:
        best: tuple[float, int, EngineVoice, list[str]] | None = None
        for order, voice in enumerate(voices):
            score, reasons = _score(character, voice, accent.lower(), narrator)
            score -= 2.0 * used.get(voice.voice_id, 0)  # distinct voices while they last
            if voice.voice_id == narrator_voice_id:
                score -= 4.0
            key = (score, -order)
            if best is None or key > (best[0], best[1]):
                best = (score, -order, voice, reasons)
        assert best is not None
        used[best[2].voice_id] = used.get(best[2].voice_id, 0) + 1
        out.append(Proposal(character.id, best[2], best[0], tuple(best[3])))
    return out


CAST_SETTING = "cast"  # project.settings key: character name -> project voice id


def cast_links(project: Project) -> dict[str, VoiceId]:
    """Return the project's cast: character name -> project voice id.

    Kept in ``project.settings["cast"]`` (saved with the project), so a character keeps
    their voice whatever its alias becomes. Links to voices since removed are left out.
    """
    raw = project.settings.get(CAST_SETTING)
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): VoiceId(vid) for name, vid in raw.items()
            if isinstance(vid, str) and vid in project.voices}


def linked_voices(project: Project, sheet: CastSheet) -> dict[str, VoiceId]:
    """Return character id -> project voice id for the sheet's characters already cast.

    The project's links (:func:`cast_links`) decide; a project cast before links were kept
    falls back on a voice whose alias is the character's name and no character's link.
    """
    links = cast_links(project)
    linked = set(links.values())
    by_alias = {v.alias: v.id for v in project.voices.values() if v.id not in linked}
    out: dict[str, VoiceId] = {}
    for character in sheet.characters:
        vid = links.get(character.name) or by_alias.get(character.name)
        if vid is not None:
            out[character.id] = vid
    return out


def cast_voices(project: Project, sheet: CastSheet, engine: str,
                assignments: Mapping[str, str]) -> tuple[dict[str, VoiceId], Changes]:
    """Give each assigned character a project voice on ``engine`` and link them to it.

    ``assignments`` maps character id to engine voice id. A character already linked
    (:func:`linked_voices`) keeps their voice, with the new engine voice; the others get a
    new voice whose alias is their name. The links are stored in ``project.settings``
    (:func:`cast_links`). Returns the character id -> project voice map and the changes.
    """
    known = linked_voices(project, sheet)
    links = cast_links(project)
    result: dict[str, VoiceId] = {}
    changes = Changes()
    for character_id, engine_voice_id in assignments.items():
        character = sheet.character(character_id)
        vid = known.get(character_id)
        voice = project.voices[vid] if vid is not None else None
        if voice is None:
            voice = Voice(VoiceId(new_id()), character.name, engine=engine,
                          engine_voice_id=engine_voice_id)
            changes = changes | add_voice(project, voice)
        elif (voice.engine, voice.engine_voice_id) != (engine, engine_voice_id):
            voice.engine, voice.engine_voice_id = engine, engine_voice_id
            changes = changes | Changes(voices=frozenset([voice.id]))
        result[character_id] = voice.id
        links[character.name] = voice.id
    if links != project.settings.get(CAST_SETTING):
        project.settings = {**project.settings, CAST_SETTING: links}
        changes = changes | Changes(project=True)
    return result, changes


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply_cast` did besides its changes."""

    spans: int
    skipped_locked: tuple[BlockId, ...]
    skipped_doubtful: int


def apply_cast(project: Project, sheet: CastSheet, voices: Mapping[str, VoiceId], *,
               min_confidence: float = 0.0) -> tuple[Changes, Applied]:
    """Put a voice span on every attributed line of a character in ``voices``.

    The paragraphs touched get their spans replaced on the quoted lines (other spans that do
    not overlap a line stay). Lines under ``min_confidence`` stay with the narrator, and
    locked paragraphs are left alone.
    """
    for vid in voices.values():
        if vid not in project.voices:
            raise EditError("that voice is not in the project's cast")
    per_block: dict[BlockId, list[Line]] = {}
    doubtful = 0
    for line in sheet.lines:
        if line.speaker is None or line.speaker not in voices:
            continue
        if line.confidence < min_confidence:
            doubtful += 1
            continue
        per_block.setdefault(line.block_id, []).append(line)
    locked: list[BlockId] = []
    touched: list[BlockId] = []
    count = 0
    for block_id, lines in per_block.items():
        block = project.block(block_id)
        if block.locked:
            locked.append(block_id)
            continue
        new = [VoiceSpan(ln.start, ln.end, voices[ln.speaker]) for ln in lines
               if ln.speaker is not None and ln.end <= len(block.text)
               and block.text[ln.start:ln.end] == ln.text]
        keep = [s for s in block.spans
                if all(s.end <= n.start or s.start >= n.end for n in new)]
        spans = tuple(sorted(keep + new, key=lambda s: s.start))
        if spans != block.spans:
            block.spans = spans
            touched.append(block_id)
        count += len(new)
    return (Changes(blocks=frozenset(touched)),
            Applied(count, tuple(locked), doubtful))


def clear_cast(project: Project, voice_ids: Sequence[VoiceId]) -> Changes:
    """Remove the spans of the given character voices (undo of :func:`apply_cast`)."""
    wanted = set(voice_ids)
    touched: list[str] = []
    for _, block in project.iter_blocks():
        if block.locked:
            continue
        spans = tuple(s for s in block.spans if s.voice_id not in wanted)
        if spans != block.spans:
            block.spans = spans
            touched.append(block.id)
    return Changes(blocks=frozenset(touched))
