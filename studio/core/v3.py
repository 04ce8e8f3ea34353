"""Eleven v3: audio tags (list, completion, validation) and Text to Dialogue requests.

Contract: ``shared/spec/elevenlabs-api.md`` §6.4 and §7; product notes §3. Tags are free
text in square brackets; the documented ones are offered first. v3 takes no stitching,
works best with prompts over 250 characters, and professional clones are not yet optimised
for it; Text to Dialogue takes at most 10 distinct voices and about 2,000 characters.

:func:`dialogue_requests` builds the bodies, :func:`dialogue_problems` checks one against the
documented limits (the engine refuses to send a body that breaks them),
:func:`dialogue_warnings` gives the documented advice, and
:meth:`studio.core.engines.elevenlabs.ElevenLabsEngine.dialogue` sends it. The render
(:mod:`studio.core.generation`) sends a v3 paragraph of several voices as the requests of
:func:`paragraph_dialogue`, whose lines remember where they are in the paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from studio.core.textsplit import split_long

TAGS: Final = (
    "laughs", "laughs harder", "starts laughing", "wheezing", "whispers", "sighs", "exhales",
    "sarcastic", "curious", "excited", "crying", "snorts", "mischievously",
    "gunshot", "applause", "clapping", "explosion", "swallows", "gulps",
    "strong X accent", "sings", "woo", "fart", "sad", "laughing", "whispering",
)
MIN_PROMPT_CHARS: Final = 250
DIALOGUE_MAX_CHARS: Final = 2000
DIALOGUE_MAX_VOICES: Final = 10
MAX_LOCATORS: Final = 3
#: request fields of Text to Speech stitching, which Text to Dialogue does not have (§7)
STITCHING_FIELDS: Final = ("previous_request_ids", "next_request_ids", "previous_text",
                           "next_text")
_TAG: Final = re.compile(r"\[([^\[\]\n]{0,60})\]")


def is_v3(model_id: str) -> bool:
    """Return whether ``model_id`` is an Eleven v3 model."""
    return model_id.startswith("eleven_v3")


def complete_tag(text: str, cursor: int) -> list[str]:
    """Return the tags that complete what is typed after the ``[`` before ``cursor``."""
    start = text.rfind("[", 0, cursor)
    if start < 0 or "]" in text[start:cursor] or "\n" in text[start:cursor]:
        return []
    typed = text[start + 1:cursor].lower()
    return [t for t in TAGS if t.startswith(typed)] + [
        t for t in TAGS if typed and typed in t and not t.startswith(typed)]


@dataclass(frozen=True, slots=True)
class TagIssue:
    """A problem with a tag at ``[start, end)`` of the text."""

    start: int
    end: int
    message: str
    severity: str  # "warning" or "error"


def validate_tags(text: str, model_id: str) -> list[TagIssue]:
    """Return the tag problems: unclosed or empty tags, unknown ones, tags a model drops."""
    issues: list[TagIssue] = []
    for m in _TAG.finditer(text):
        tag = m.group(1).strip().lower()
        if not tag:
            issues.append(TagIssue(m.start(), m.end(), "empty audio tag", "error"))
        elif not is_v3(model_id):
            issues.append(TagIssue(m.start(), m.end(), f"[{tag}] is stripped: only Eleven v3 "
                                   "reads audio tags", "warning"))
        elif tag not in TAGS and not re.fullmatch(r"strong .+ accent", tag):
            issues.append(TagIssue(m.start(), m.end(), f"[{tag}] is not a documented tag; "
                                   "it may work, test it first", "warning"))
    depth_start = -1
    for i, ch in enumerate(text):
        if ch == "[":
            depth_start = i
        elif ch == "]":
            depth_start = -1
        elif ch == "\n" and depth_start >= 0:
            issues.append(TagIssue(depth_start, i, "audio tag is not closed", "error"))
            depth_start = -1
    if depth_start >= 0:
        issues.append(TagIssue(depth_start, len(text), "audio tag is not closed", "error"))
    return sorted(issues, key=lambda x: x.start)


def is_audio_tag(tag: str) -> bool:
    """Return whether ``tag`` (without brackets) is a documented v3 audio tag."""
    tag = " ".join(tag.lower().split())
    return tag in TAGS or re.fullmatch(r"strong [a-z -]+ accent", tag) is not None


def audio_tags(text: str) -> list[str]:
    """Return the documented audio tags in ``text`` (``"whispers"``), in order."""
    return [m.group(1).strip().lower() for m in _TAG.finditer(text) if is_audio_tag(m.group(1))]


def strip_audio_tags(text: str) -> str:
    """Return ``text`` without its documented audio tags (other brackets, "[sic]", stay).

    This is what the render sends to models other than v3: they would read ``[whispers]``
    aloud, and bill it.
    """
    if "[" not in text:
        return text
    out = _TAG.sub(lambda m: " " if is_audio_tag(m.group(1)) else m.group(), text)
    return re.sub(r"[ \t]{2,}", " ", out).strip() if out != text else text


def strip_tags(text: str) -> str:
    """Return ``text`` without audio tags (what non-v3 models should be sent)."""
    return re.sub(r"\s{2,}", " ", _TAG.sub(" ", text)).strip()


def v3_warnings(text: str, model_id: str, voice_category: str = "",
                stitching: bool = False) -> list[str]:
    """Return the documented v3 warnings for one paragraph's request."""
    if not is_v3(model_id):
        return []
    out: list[str] = []
    if len(strip_tags(text)) < MIN_PROMPT_CHARS:
        out.append(f"Eleven v3 is inconsistent on prompts under {MIN_PROMPT_CHARS} characters")
    if voice_category == "professional":
        out.append("professional voice clones are not yet optimised for Eleven v3; prefer "
                   "an instant clone or a designed voice")
    if stitching:
        out.append("Eleven v3 does not support request stitching; paragraphs are generated "
                   "without it")
    return out


def dialogue_requests(lines: Sequence[tuple[str, str]], *, model_id: str = "eleven_v3",
                      stability: float | None = None,
                      locators: Sequence[tuple[str, str | None]] = (),
                      language_code: str | None = None) -> list[dict[str, Any]]:
    """Return Text to Dialogue bodies for (text, voice id) lines, split to the API's limits.

    A request holds at most 2,000 characters and 10 distinct voices; consecutive lines of
    one voice are merged while they fit, a longer line is split at sentence boundaries. Up
    to three dictionary locators go with each request. Nothing is stitched: v3 has no
    ``previous_*``/``next_*`` fields.
    """
    merged: list[tuple[str, str]] = []
    for text, voice in lines:
        for piece in split_long(text, DIALOGUE_MAX_CHARS):
            if merged and merged[-1][1] == voice and (
                    len(merged[-1][0]) + 1 + len(piece) <= DIALOGUE_MAX_CHARS):
                merged[-1] = (f"{merged[-1][0]} {piece}", voice)
            else:
                merged.append((piece, voice))
    bodies: list[dict[str, Any]] = []
    current: list[tuple[str, str]] = []

    def flush() -> None:
        if not current:
            return
        bodies.append(dialogue_body(current, model_id=model_id, stability=stability,
                                    locators=locators, language_code=language_code))
        current.clear()

    for text, voice in merged:
        chars = sum(len(t) for t, _ in current) + len(text)
        voices = {v for _, v in current} | {voice}
        if current and (chars > DIALOGUE_MAX_CHARS or len(voices) > DIALOGUE_MAX_VOICES):
            flush()
        current.append((text, voice))
    flush()
    return bodies


def dialogue_body(inputs: Sequence[tuple[str, str]], *, model_id: str = "eleven_v3",
                  stability: float | None = None,
                  locators: Sequence[tuple[str, str | None]] = (),
                  language_code: str | None = None) -> dict[str, Any]:
    """Return the Text to Dialogue body for (text, voice id) inputs, sent as they are."""
    body: dict[str, Any] = {"inputs": [{"text": t, "voice_id": v} for t, v in inputs],
                            "model_id": model_id}
    if stability is not None:
        body["settings"] = {"stability": stability}
    if locators:
        body["pronunciation_dictionary_locators"] = [
            {"pronunciation_dictionary_id": d, **({"version_id": v} if v else {})}
            for d, v in list(locators)[:MAX_LOCATORS]]
    if language_code:
        body["language_code"] = language_code
    return body


@dataclass(frozen=True, slots=True)
class DialogueLine:
    """One Text to Dialogue input of a paragraph: ``text``, read by ``voice_id`` (an engine
    voice id), found at ``start`` in the paragraph's text."""

    text: str
    voice_id: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def paragraph_dialogue(text: str, runs: Sequence[tuple[int, int, str]], *,
                       max_chars: int = DIALOGUE_MAX_CHARS,
                       max_voices: int = DIALOGUE_MAX_VOICES) -> list[tuple[DialogueLine, ...]]:
    """Return a paragraph's voice runs as the inputs of one or more Text to Dialogue requests.

    ``runs`` are (start, end, engine voice id) in reading order, together covering the
    paragraph's spoken text. Consecutive runs of one voice become one line (the paragraph's
    text between them kept as it is); a line longer than ``max_chars`` is split at sentence
    boundaries; lines are packed in order into requests of at most ``max_chars`` characters
    (counted as the inputs joined by spaces) and ``max_voices`` distinct voices. Each line
    keeps its place in the paragraph, so the answer's timings can be put back on its text.
    """
    merged: list[list[Any]] = []  # [start, end, voice]
    for start, end, voice in runs:
        if not text[start:end].strip():
            continue
        if merged and merged[-1][2] == voice:
            merged[-1][1] = end
        else:
            merged.append([start, end, voice])
    lines: list[DialogueLine] = []
    for start, end, voice in merged:
        at = start
        for piece in split_long(text[start:end], max_chars):
            at = text.index(piece, at)  # pieces are exact, in-order slices
            lines.append(DialogueLine(piece, voice, at))
            at += len(piece)
    requests: list[tuple[DialogueLine, ...]] = []
    current: list[DialogueLine] = []
    for line in lines:
        chars = sum(len(x.text) + 1 for x in current) + len(line.text)
        voices = {x.voice_id for x in current} | {line.voice_id}
        if current and (chars > max_chars or len(voices) > max_voices):
            requests.append(tuple(current))
            current = []
        current.append(line)
    if current:
        requests.append(tuple(current))
    return requests


def dialogue_problems(body: Mapping[str, Any]) -> list[str]:
    """Return why a Text to Dialogue body breaks the documented limits (empty if it is fine).

    Eleven v3 only; inputs of text and voice; at most 10 distinct voices and 2,000
    characters in all; at most three dictionary locators; no stitching fields.
    """
    out: list[str] = []
    inputs = body.get("inputs") or []
    if not inputs:
        out.append("a dialogue needs at least one line")
    if any(not str(i.get("text") or "").strip() or not i.get("voice_id") for i in inputs):
        out.append("every line needs text and a voice")
    model_id = str(body.get("model_id") or "eleven_v3")
    if not is_v3(model_id):
        out.append(f"Text to Dialogue exists only on Eleven v3, not {model_id}")
    voices = {i.get("voice_id") for i in inputs}
    if len(voices) > DIALOGUE_MAX_VOICES:
        out.append(f"{len(voices)} voices; a request takes at most {DIALOGUE_MAX_VOICES}")
    chars = sum(len(str(i.get("text") or "")) for i in inputs)
    if chars > DIALOGUE_MAX_CHARS:
        out.append(f"{chars:,} characters; a request takes at most {DIALOGUE_MAX_CHARS:,}")
    locators = body.get("pronunciation_dictionary_locators") or []
    if len(locators) > MAX_LOCATORS:
        out.append(f"{len(locators)} pronunciation dictionaries; at most {MAX_LOCATORS}")
    sent = [f for f in STITCHING_FIELDS if f in body]
    if sent:
        out.append("Eleven v3 has no request stitching (" + ", ".join(sent) + ")")
    return out


def dialogue_warnings(body: Mapping[str, Any],
                      voice_categories: Mapping[str, str] | None = None) -> list[str]:
    """Return the documented advice for a Text to Dialogue body (it may still be sent)."""
    inputs = body.get("inputs") or []
    text = " ".join(str(i.get("text") or "") for i in inputs)
    out = [w for w in v3_warnings(text, "eleven_v3") if "stitching" not in w]
    categories = voice_categories or {}
    pro = sorted({str(i.get("voice_id")) for i in inputs
                  if categories.get(str(i.get("voice_id"))) == "professional"})
    if pro:
        out.append("professional voice clones are not yet optimised for Eleven v3 ("
                   + ", ".join(pro) + ")")
    out.append("Eleven v3 dialogue is not stitched to the requests before or after it; "
               "expect changes of tone between requests")
    return out
