"""Plan narration: from a project and a scope, the frozen jobs to send and how to stitch them.

A *job* is one request: a paragraph, or a part of one (text over the model's limit is split
at sentence boundaries; a voice span is its own part). Jobs form *chains*: the paragraphs of
one voice in one chapter, in reading order. A chain runs in order, because request stitching
needs each earlier request's id, and an id is usable only once its response was read to the
end; different chains run in parallel.

Stitching (models that support it; never ``eleven_v3``, never the offline engine):

* ``previous_request_ids``: ids of up to three preceding paragraphs of the same voice in the
  same chapter: from this run (resolved when the job is sent) or from current takes younger
  than two hours;
* ``next_request_ids``: ids of following paragraphs that already have current takes and are
  not regenerated (regenerating in the middle of a chapter);
* ``previous_text`` / ``next_text``: the neighbouring text, sent only where no usable ids exist.

Paragraphs whose current take matches what would be sent are skipped; a paragraph whose
*older* take matches is given that take back instead of paying for it again.

Text to Dialogue (``eleven_v3`` only): a paragraph read by more than one voice (voice spans)
is one dialogue request, its runs the inputs in order, instead of a request per run (split
into several requests past 2,000 characters or 10 voices: :func:`v3.paragraph_dialogue`).
The answer's timings are put back on the paragraph's own text (:func:`dialogue_speech`), so
the paragraph gets one take like any other. The offline engine has no dialogue.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.core import v3
from studio.core.catalog import ModelInfo, model_info
from studio.core.engines import SpeechRequest, SpeechResult, VoiceParams
from studio.core.lexicon.match import applied_rules
from studio.core.model import (
    Block,
    BlockId,
    BlockStatus,
    Chapter,
    ChapterId,
    CharTimings,
    Project,
    Take,
    TakeId,
    Voice,
    VoiceId,
    WordTiming,
    block_status,
    inputs_hash,
    new_id,
)
from studio.core.textsplit import split_long

if TYPE_CHECKING:
    from studio.core.engines.elevenlabs import VoiceSegment

STITCH_MAX_AGE_S = 2 * 3600
STITCH_MAX_IDS = 3
CONTEXT_CHARS = 600  # previous_text / next_text length


@dataclass(frozen=True, slots=True)
class Ref:
    """A stitching reference: a job of this run, or a request id that already exists."""

    job_id: str | None = None
    request_id: str | None = None
    created: float = 0.0  # when an existing request id was made (its age is checked on send)


@dataclass(frozen=True, slots=True)
class Job:
    """One request to send. Stitching ids to jobs of this run are resolved when it is sent."""

    id: str
    block_id: BlockId
    chapter_id: ChapterId
    part: int
    parts: int
    request: SpeechRequest
    inputs_hash: str
    voice_id: VoiceId | None
    prev_refs: tuple[Ref, ...] = ()
    next_refs: tuple[Ref, ...] = ()
    # Text to Dialogue (eleven_v3, a paragraph of several voices): the inputs, each knowing
    # where it is in ``paragraph``; ``request`` then holds the shared fields and the inputs
    # joined by spaces as its text. Empty for Text to Speech.
    dialogue: tuple[v3.DialogueLine, ...] = ()
    paragraph: str = ""

    @property
    def characters(self) -> int:
        """Return the characters this request sends (what the API bills)."""
        return len(self.request.text)

    def dialogue_body(self) -> dict[str, Any]:
        """Return the Text to Dialogue body of a dialogue job."""
        r = self.request
        return v3.dialogue_body([(x.text, x.voice_id) for x in self.dialogue],
                                model_id=r.model_id, stability=r.params.stability,
                                locators=r.dictionary_locators, language_code=r.language_code)


@dataclass(frozen=True, slots=True)
class Chain:
    """Jobs that must run in order: one voice's paragraphs in one chapter."""

    key: str
    jobs: tuple[Job, ...]

    @property
    def characters(self) -> int:
        return sum(j.characters for j in self.jobs)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a render will do."""

    engine: str
    model_id: str
    chains: tuple[Chain, ...]
    skipped: int = 0  # paragraphs already converted (or locked with audio)
    reused: tuple[tuple[BlockId, TakeId], ...] = ()  # older takes that match, made current
    problems: tuple[str, ...] = ()  # paragraphs that cannot be rendered, with the reason
    cost_multiplier: float = 1.0
    # Things that will render but not as the author expects (phoneme rules the model
    # ignores, dictionaries not uploaded, v3 advice); shown before credits are spent.
    warnings: tuple[str, ...] = ()

    @property
    def jobs(self) -> list[Job]:
        return [j for c in self.chains for j in c.jobs]

    @property
    def characters(self) -> int:
        return sum(c.characters for c in self.chains)

    @property
    def credits(self) -> int:
        """Return the credits the plan costs (rounded up per request, as the API bills)."""
        return sum(math.ceil(j.characters * self.cost_multiplier) for j in self.jobs)

    @property
    def paragraphs(self) -> int:
        return len({j.block_id for j in self.jobs})

    @property
    def dialogue_requests(self) -> int:
        """Return how many of the requests are Text to Dialogue requests."""
        return sum(1 for j in self.jobs if j.dialogue)

    @property
    def dialogue_paragraphs(self) -> int:
        return len({j.block_id for j in self.jobs if j.dialogue})


def _params(voice: Voice) -> VoiceParams:
    return VoiceParams(
        stability=voice.stability,
        similarity=voice.similarity,
        style=voice.style,
        speaker_boost=voice.speaker_boost,
        speed=voice.speed,
    )


def _runs(project: Project, block: Block, voice: Voice) -> list[tuple[int, int, Voice]]:
    """Return the block's text as (start, end, voice) runs without blank ends: its own voice
    and its voice spans."""
    text = block.text
    raw: list[tuple[int, int, Voice]] = []
    pos = 0
    for span in block.spans:
        if span.start > pos:
            raw.append((pos, span.start, voice))
        raw.append((span.start, span.end, project.voices.get(span.voice_id, voice)))
        pos = span.end
    if pos < len(text):
        raw.append((pos, len(text), voice))
    runs: list[tuple[int, int, Voice]] = []
    for start, end, v in raw:
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            first = start + len(chunk) - len(chunk.lstrip())
            runs.append((first, first + len(stripped), v))
    return runs


def _segments(project: Project, block: Block, voice: Voice) -> list[tuple[str, Voice]]:
    """Return the block's text as (text, voice) runs: its own voice and its voice spans."""
    if not block.spans:
        return [(block.text, voice)]
    return [(block.text[s:e], v) for s, e, v in _runs(project, block, voice)]


def _dialogue_lines(project: Project, block: Block, voice: Voice,
                    info: ModelInfo) -> list[tuple[v3.DialogueLine, ...]]:
    """Return the Text to Dialogue requests of ``block`` (empty where it is not a dialogue:
    not v3, one voice, or a voice that is not an ElevenLabs voice)."""
    if not block.spans or not v3.is_v3(info.model_id):
        return []
    runs = _runs(project, block, voice)
    if any(v.engine != "elevenlabs" or not v.engine_voice_id for _, _, v in runs):
        return []
    if len({v.engine_voice_id for _, _, v in runs}) < 2:
        return []
    return v3.paragraph_dialogue(block.text, [(s, e, v.engine_voice_id) for s, e, v in runs],
                                 max_chars=min(v3.DIALOGUE_MAX_CHARS, info.max_characters))


def _usable_ref(block: Block, project: Project, now: float, first: bool = False) -> Ref | None:
    """Return a reference to the request id of ``block``'s current take, if still usable.

    A paragraph split into parts has one id per part: the one next to the paragraph being
    generated is wanted (its last part before it, its first part after it).
    """
    take = block.current_take
    if take is None or not take.request_id or now - take.created > STITCH_MAX_AGE_S:
        return None
    if block_status(project, block) is not BlockStatus.CONVERTED:
        return None
    ids = take.settings.get("request_ids") or [take.request_id]
    rid = str(ids[0] if first else ids[-1])
    return Ref(request_id=rid, created=take.created)


def _context(blocks: Sequence[Block], start: int, forward: bool) -> str | None:
    """Return up to CONTEXT_CHARS of text from ``blocks[start]`` on (or back, if not forward)."""
    texts: list[str] = []
    total = 0
    indices = range(start, len(blocks)) if forward else range(start, -1, -1)
    for i in indices:
        b = blocks[i]
        texts.append(b.text)
        total += len(b.text)
        if total >= CONTEXT_CHARS:
            break
    if not texts:
        return None
    joined = " ".join(texts) if forward else " ".join(reversed(texts))
    return joined[:CONTEXT_CHARS] if forward else joined[-CONTEXT_CHARS:]


def snapshot(project: Project, chapters: Iterable[ChapterId] | None = None) -> Project:
    """Return a copy of ``project`` that a planner on another thread can read while the
    original is edited.

    Paragraphs are copied (takes are immutable and shared), so the copy costs a few
    microseconds a paragraph; with ``chapters``, the other chapters are copied empty
    (the planner skips them).
    """
    scope = set(chapters) if chapters is not None else None
    copied = [
        Chapter(c.id, c.title, [
            Block(b.id, b.text, b.voice_id, b.spans, b.locked, list(b.takes), b.current_take_id)
            for b in c.blocks
        ] if scope is None or c.id in scope else [])
        for c in project.chapters
    ]
    return dataclasses.replace(
        project,
        settings=dict(project.settings),
        voices={vid: dataclasses.replace(v) for vid, v in project.voices.items()},
        chapters=copied,
        dictionaries=list(project.dictionaries),
        exports=list(project.exports),
        _where={},
    )


def plan_render(
    project: Project,
    *,
    engine: str,
    chapters: Iterable[ChapterId] | None = None,
    blocks: Iterable[BlockId] | None = None,
    model: ModelInfo | None = None,
    output_format: str = "mp3_44100_128",
    stitching: bool = True,
    force: bool = False,
    now: float | None = None,
    voice_categories: Mapping[str, str] | None = None,
) -> Plan:
    """Return the jobs needed to narrate the scope (whole book by default).

    Args:
        engine: the engine that will run the jobs ("elevenlabs" or "offline"); paragraphs
            whose voice belongs to another engine are listed in ``problems``.
        chapters / blocks: the scope; blocks win over chapters.
        model: the model's limits; by default from the catalogue for the project's model.
        force: regenerate even converted paragraphs (a new take each).
        voice_categories: engine voice id -> category ("professional", ...) where the
            engine's voice list is known, for the v3 warnings.
    """
    now = time.time() if now is None else now
    offline = engine == "offline"
    info = model or model_info("offline-espeak" if offline else project.model_id)
    stitch = stitching and info.supports_stitching and not offline
    chapter_scope = set(chapters) if chapters is not None else None
    block_scope = set(blocks) if blocks is not None else None

    chains: dict[str, list[Job]] = {}
    problems: list[str] = []
    reused: list[tuple[BlockId, TakeId]] = []
    skipped = 0
    tagged = 0  # paragraphs to send that hold audio tags

    for chapter in project.chapters:
        if chapter_scope is not None and chapter.id not in chapter_scope:
            continue
        todo: dict[BlockId, str] = {}  # block -> inputs hash, for blocks generated in this run
        for block in chapter.blocks:
            if block_scope is not None and block.id not in block_scope:
                continue
            voice = project.voice_for(block)
            if voice is None:
                problems.append(f"'{chapter.title}': a paragraph has no voice")
                continue
            if voice.engine != engine:
                problems.append(
                    f"'{chapter.title}': voice '{voice.alias}' belongs to the {voice.engine} "
                    f"engine, not {engine}"
                )
                continue
            current = block.current_take
            if block.locked and current is not None:
                skipped += 1
                continue
            wanted = inputs_hash(project, block)  # hashed once: it also gives the status
            if not force and current is not None and current.inputs_hash == wanted:
                skipped += 1
                continue
            if not force:
                older = next((t for t in reversed(block.takes) if t.inputs_hash == wanted), None)
                if older is not None:
                    reused.append((block.id, older.id))
                    continue
            todo[block.id] = wanted
            if "[" in block.text and v3.audio_tags(block.text):
                tagged += 1
        if todo:
            _chapter_jobs(project, chapter, todo, chains, info, output_format, stitch, now)

    ordered = sorted(
        (Chain(key, tuple(jobs)) for key, jobs in chains.items()),
        key=lambda c: -c.characters,
    )
    jobs = [j for c in ordered for j in c.jobs]
    warnings = plan_warnings(project, engine, info.model_id, [j.request.text for j in jobs],
                             voice_categories=voice_categories,
                             voice_ids=[j.request.voice_id for j in jobs],
                             dialogues=[j.dialogue for j in jobs if j.dialogue],
                             tagged=tagged)
    dialogues = {j.block_id for c in ordered for j in c.jobs if j.dialogue}
    if dialogues:
        warnings.append(f"{len(dialogues)} paragraphs of several voices go as Text to Dialogue: "
                        "only the paragraph voice's stability is sent, not each character's "
                        "speed, similarity or style")
    return Plan(
        warnings=tuple(warnings),
        engine=engine,
        model_id=info.model_id,
        chains=tuple(ordered),
        skipped=skipped,
        reused=tuple(reused),
        problems=tuple(problems),
        cost_multiplier=info.cost_multiplier,
    )


def plan_warnings(project: Project, engine: str, model_id: str,
                  texts: Sequence[str], *,
                  voice_categories: Mapping[str, str] | None = None,
                  voice_ids: Sequence[str] = (),
                  dialogues: Sequence[Sequence[v3.DialogueLine]] = (),
                  tagged: int | None = None) -> list[str]:
    """Return the warnings for sending ``texts`` with ``model_id`` (see :attr:`Plan.warnings`).

    ``voice_ids`` are the engine voices of ``texts`` (same order) and ``voice_categories``
    their categories where the engine's voice list is known (professional clones get v3's
    warning); ``dialogues`` the Text to Dialogue inputs; ``tagged`` the paragraphs holding
    audio tags (default: counted in ``texts``). Non-v3 models are sent the text without its
    audio tags (:func:`v3.strip_audio_tags`), which the warning says.
    """
    from studio.core.lexicon.eleven import dictionary_warnings

    if engine != "elevenlabs" or not texts:
        return []
    out = dictionary_warnings(project, engine=engine, model_id=model_id, texts=texts)
    if not v3.is_v3(model_id):
        if tagged is None:
            tagged = sum(1 for t in texts if v3.audio_tags(t))
        if tagged:
            out.append(f"{tagged} paragraphs hold audio tags ([whispers], [laughs], ...): only "
                       f"Eleven v3 reads them, so they are left out of what is sent to "
                       f"{model_id} (it would say them, and bill them)")
        return out
    categories = voice_categories or {}
    short = 0
    professional: dict[str, None] = {}
    for i, text in enumerate(texts):
        voice = voice_ids[i] if i < len(voice_ids) else ""
        for warning in v3.v3_warnings(text, model_id, categories.get(voice, "")):
            if "under" in warning:
                short += 1
            elif "professional" in warning:
                professional[voice] = None
    if short:
        out.append(f"{short} of {len(texts)} requests are under {v3.MIN_PROMPT_CHARS} "
                   "characters: Eleven v3 is inconsistent on short prompts")
    out.append("Eleven v3 does not support request stitching: paragraphs are generated "
               "without it")
    advice: dict[str, None] = {}
    for lines in dialogues:
        body = v3.dialogue_body([(x.text, x.voice_id) for x in lines], model_id=model_id)
        for warning in v3.dialogue_warnings(body, categories):
            if "professional" in warning:
                professional.update((x.voice_id, None) for x in lines
                                    if categories.get(x.voice_id) == "professional")
            elif "characters" not in warning:
                advice[warning] = None
    if professional:
        names = {v.engine_voice_id: v.alias for v in project.voices.values()}
        out.append("professional voice clones are not yet optimised for Eleven v3 ("
                   + ", ".join(names.get(v, v) for v in professional)
                   + "): prefer an instant clone or a designed voice")
    out.extend(advice)
    return out


def _chapter_jobs(
    project: Project,
    chapter: Chapter,
    todo: dict[BlockId, str],
    chains: dict[str, list[Job]],
    info: ModelInfo,
    output_format: str,
    stitch: bool,
    now: float,
) -> None:
    blocks = chapter.blocks
    last_job_of: dict[BlockId, str] = {}
    # Uploaded dictionaries, at most 3 per request (the API's limit), in the project's order.
    locators = tuple(
        (d.engine_dictionary_id, d.engine_version_id)
        for d in project.dictionaries if d.engine_dictionary_id
    )[:3]
    # Each voice's paragraphs in reading order, found once for the chapter: looking them up
    # again for every paragraph made planning a long chapter quadratic.
    voice_of = [project.voice_for(b) for b in blocks]
    same_voice: dict[int, list[Block]] = {}
    position: list[int] = []  # a paragraph's place among its voice's paragraphs
    for b, v in zip(blocks, voice_of, strict=True):
        mine = same_voice.setdefault(id(v), [])
        position.append(len(mine))
        mine.append(b)
    for index, block in enumerate(blocks):
        if block.id not in todo:
            continue
        voice = voice_of[index]
        assert voice is not None
        mine, at = same_voice[id(voice)], position[index]
        same_voice_before = mine[max(0, at - STITCH_MAX_IDS) : at]
        same_voice_after = mine[at + 1 : at + 1 + STITCH_MAX_IDS]
        prev_refs: list[Ref] = []
        next_refs: list[Ref] = []
        previous_text = next_text = None
        if stitch:
            for b in same_voice_before[-STITCH_MAX_IDS:]:
                if b.id in last_job_of:
                    prev_refs.append(Ref(job_id=last_job_of[b.id]))
                else:
                    ref = _usable_ref(b, project, now)
                    if ref:
                        prev_refs.append(ref)
            for b in same_voice_after[:STITCH_MAX_IDS]:
                if b.id in todo:
                    break  # generated after this one: its id is not known yet
                ref = _usable_ref(b, project, now, first=True)
                if not ref:
                    break
                next_refs.append(ref)
            previous_text = _context(blocks, index - 1, forward=False)
            next_text = _context(blocks, index + 1, forward=True)
        dialogue = _dialogue_lines(project, block, voice, info)
        if dialogue:
            chain = chains.setdefault(f"{chapter.id}:{voice.id}", [])
            for n, lines in enumerate(dialogue):
                chain.append(Job(
                    id=f"{block.id}:{n}", block_id=block.id, chapter_id=chapter.id, part=n,
                    parts=len(dialogue),
                    request=SpeechRequest(
                        text=" ".join(x.text for x in lines), voice_id=voice.engine_voice_id,
                        model_id=info.model_id, params=_params(voice),
                        output_format=output_format, dictionary_locators=locators),
                    inputs_hash=todo[block.id], voice_id=voice.id, dialogue=lines,
                    paragraph=block.text))
            last_job_of[block.id] = f"{block.id}:{len(dialogue) - 1}"
            continue
        parts: list[tuple[str, Voice]] = []
        strip = info.model_id.startswith("eleven_") and not v3.is_v3(info.model_id)
        for text, part_voice in _segments(project, block, voice):
            parts.extend((piece, part_voice) for piece in split_long(text, info.max_characters))
        chain = chains.setdefault(f"{chapter.id}:{voice.id}", [])
        for n, (text, part_voice) in enumerate(parts):
            job_id = f"{block.id}:{n}"
            refs = tuple(prev_refs[-STITCH_MAX_IDS:]) if part_voice is voice else ()
            chain.append(
                Job(
                    id=job_id,
                    block_id=block.id,
                    chapter_id=chapter.id,
                    part=n,
                    parts=len(parts),
                    request=SpeechRequest(
                        text=v3.strip_audio_tags(text) if strip else text,
                        voice_id=part_voice.engine_voice_id,
                        model_id=info.model_id,
                        params=_params(part_voice),
                        output_format=output_format,
                        previous_text=previous_text if n == 0 else (
                            parts[n - 1][0][-CONTEXT_CHARS:] if stitch else None),
                        next_text=next_text if n == len(parts) - 1 else (
                            parts[n + 1][0][:CONTEXT_CHARS] if stitch else None),
                        dictionary_locators=locators,
                        lexicon=tuple(applied_rules(project.dictionaries, text))
                        if part_voice.engine == "offline" and project.dictionaries else (),
                    ),
                    inputs_hash=todo[block.id],
                    voice_id=voice.id,
                    prev_refs=refs,
                    next_refs=tuple(next_refs) if n == len(parts) - 1 else (),
                )
            )
            if stitch and part_voice is voice:
                prev_refs.append(Ref(job_id=job_id))
        last_job_of[block.id] = f"{block.id}:{len(parts) - 1}"


def resolve_request(
    job: Job, finished: dict[str, SpeechResult], now: float | None = None
) -> SpeechRequest:
    """Return the job's request with stitching ids filled in from finished jobs.

    Ids of existing takes are checked for age now, when the request is sent: a long render
    must not send an id that turned two hours old while it ran.
    """
    now = time.time() if now is None else now
    ids: list[str] = []
    for ref in job.prev_refs:
        if ref.request_id:
            if now - ref.created <= STITCH_MAX_AGE_S:
                ids.append(ref.request_id)
        elif ref.job_id and ref.job_id in finished and finished[ref.job_id].request_id:
            ids.append(finished[ref.job_id].request_id or "")
    next_ids = tuple(
        r.request_id for r in job.next_refs
        if r.request_id and now - r.created <= STITCH_MAX_AGE_S
    )
    if not ids and not next_ids:
        return job.request
    return dataclasses.replace(
        job.request, previous_request_ids=tuple(ids[-STITCH_MAX_IDS:]), next_request_ids=next_ids
    )


def dialogue_speech(job: Job, speech: SpeechResult,
                    segments: Sequence[VoiceSegment] = ()) -> SpeechResult:
    """Return a Text to Dialogue answer with its timings put on the paragraph's text.

    The answer times the characters of its inputs as the server joined them; each input's
    segment says where its characters are. The result's character timings cover the
    paragraph from the job's first line to its last (the text between lines, white space,
    takes the time where the line before it ended), and its word timings index that text.
    Without timings, each line is spread evenly over its segment, or over the audio in
    proportion to its length.
    """
    lines = job.dialogue
    base = lines[0].start
    source = job.paragraph[base:lines[-1].end]
    starts: list[float | None] = [None] * len(source)
    ends: list[float | None] = [None] * len(source)
    timed = speech.char_timings
    by_input = {seg.input_index: seg for seg in segments}
    total = sum(len(x.text) for x in lines) or 1
    done = 0
    for i, line in enumerate(lines):
        local, size = line.start - base, len(line.text)
        seg = by_input.get(i)
        if (seg is not None and timed is not None
                and 0 <= seg.char_start < seg.char_end <= len(timed.characters)):
            width = seg.char_end - seg.char_start
            for k in range(size):
                at = seg.char_start + (k if width == size else k * width // size)
                starts[local + k] = timed.starts[at]
                ends[local + k] = timed.ends[at]
        else:
            t0, t1 = ((seg.start, seg.end) if seg is not None else
                      (speech.duration * done / total, speech.duration * (done + size) / total))
            for k in range(size):
                starts[local + k] = t0 + (t1 - t0) * k / size
                ends[local + k] = t0 + (t1 - t0) * (k + 1) / size
        done += size
    last = 0.0
    s_out: list[float] = []
    e_out: list[float] = []
    for a, b in zip(starts, ends, strict=True):
        if a is None or b is None:
            a = b = last
        last = b
        s_out.append(a)
        e_out.append(b)
    words: list[WordTiming] = []
    begin: int | None = None
    for i, ch in enumerate([*source, " "]):
        if ch.isspace():
            if begin is not None:
                words.append(WordTiming(source[begin:i], begin, i, s_out[begin], e_out[i - 1]))
                begin = None
        elif begin is None:
            begin = i
    return dataclasses.replace(
        speech, char_timings=CharTimings(tuple(source), tuple(s_out), tuple(e_out)),
        word_timings=tuple(words))


# ---------------------------------------------------------------------------------------------
# Takes


@dataclass(slots=True)
class _Joined:
    audio: bytes
    duration: float
    timings: CharTimings | None
    words: list[WordTiming] = field(default_factory=list)


def _join(parts: Sequence[tuple[Job, SpeechResult]]) -> _Joined:
    """Join the results of a paragraph's parts into one audio stream with shifted timings."""
    from studio.core import audio as audiolib

    formats = {r.format for _, r in parts}
    dialogue = all(j.dialogue for j, _ in parts)
    if len(parts) == 1 and not dialogue:
        r = parts[0][1]
        return _Joined(r.audio, r.duration, r.char_timings, list(r.word_timings))
    fmt = parts[0][1].format
    codec = fmt.split("_")[0]
    if len(parts) == 1:
        audio = parts[0][1].audio
    elif len(formats) == 1 and codec == "mp3":
        audio = audiolib.join_mp3([r.audio for _, r in parts])
    elif len(formats) == 1 and codec in ("pcm", "ulaw", "alaw"):
        audio = b"".join(r.audio for _, r in parts)  # headerless: concatenate byte-wise
    else:
        decoded = [audiolib.decode(r.audio, r.format) for _, r in parts]
        rate = decoded[0][1]
        audio = audiolib.encode_wav(np.concatenate([d[0] for d in decoded]), rate)
    chars: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    words: list[WordTiming] = []
    offset_t = 0.0
    offset_c = 0
    for n, (job, r) in enumerate(parts):
        if dialogue:  # placed on the paragraph's text (the white space between kept)
            gap = job.paragraph[offset_c:job.dialogue[0].start]
            text = job.paragraph[job.dialogue[0].start:job.dialogue[-1].end]
        else:
            gap = " " if n else ""
            text = job.request.text
        chars.extend(gap)
        starts.extend([offset_t] * len(gap))
        ends.extend([offset_t] * len(gap))
        offset_c += len(gap)
        if r.char_timings is not None:
            chars.extend(r.char_timings.characters)
            starts.extend(s + offset_t for s in r.char_timings.starts)
            ends.extend(e + offset_t for e in r.char_timings.ends)
        else:
            chars.extend(text)
            starts.extend([offset_t] * len(text))
            ends.extend([offset_t + r.duration] * len(text))
        words.extend(
            WordTiming(w.word, w.char_start + offset_c, w.char_end + offset_c,
                       w.start + offset_t, w.end + offset_t)
            for w in r.word_timings
        )
        offset_t += r.duration
        offset_c += len(text)
    if dialogue:
        tail = parts[-1][0].paragraph[offset_c:]
        chars.extend(tail)
        starts.extend([offset_t] * len(tail))
        ends.extend([offset_t] * len(tail))
    return _Joined(audio, offset_t, CharTimings(tuple(chars), tuple(starts), tuple(ends)), words)


def make_take(parts: Sequence[tuple[Job, SpeechResult]], engine: str) -> Take:
    """Build the take of a paragraph from its parts' results (peak summaries included)."""
    from studio.core import audio as audiolib

    first_job, first = parts[0]
    joined = _join(parts)
    fmt = first.format if len({r.format for _, r in parts}) == 1 else f"wav_{first.sample_rate}"
    samples, rate = audiolib.decode(joined.audio, fmt)
    fine, coarse = audiolib.peaks(samples, rate)
    last = parts[-1][1]
    req = first_job.request
    return Take(
        id=TakeId(new_id()),
        block_id=first_job.block_id,
        inputs_hash=first_job.inputs_hash,
        format=fmt,
        duration=len(samples) / rate if rate else joined.duration,
        created=last.completed_at or time.time(),
        engine=engine,
        voice_id=first_job.voice_id,
        model_id=req.model_id,
        settings={
            "voice": req.voice_id,
            "stability": req.params.stability,
            "similarity": req.params.similarity,
            "style": req.params.style,
            "speaker_boost": req.params.speaker_boost,
            "speed": req.params.speed,
            "request_ids": [r.request_id for _, r in parts if r.request_id],
            "previous_request_ids": list(req.previous_request_ids),
            **({"dialogue": [[x.voice_id, x.start, x.end] for j, _ in parts
                             for x in j.dialogue]} if first_job.dialogue else {}),
        },
        text=first_job.paragraph if first_job.dialogue else " ".join(
            j.request.text for j, _ in parts),
        sample_rate=rate,
        request_id=last.request_id,
        cost=sum(r.cost for _, r in parts),
        char_timings=joined.timings,
        word_timings=tuple(joined.words),
        audio=joined.audio,
        peaks_fine=fine,
        peaks_coarse=coarse,
    )
