"""Read and write transcripts: our JSON, ElevenLabs Speech to Text JSON, TXT and HTML.

Our JSON (``"format": "narrator-studio-transcript"``, ``"version": 1``)::

    {"format": ..., "version": 1, "language": "en", "media": "talk.mp3", "duration": 61.2,
     "speakers": [{"id", "name", "colour"}],            # in display order
     "segments": [{"id", "start", "end", "speaker", "text", "words_stale",
                   "words": [{"text", "start", "end", "type", "confidence",
                              "char_start", "char_end"}]}]}

Times are seconds. ElevenLabs answers (``POST /v1/speech-to-text``, single- or multichannel)
are read by :func:`from_elevenlabs`; :func:`words_to_transcript` groups a word stream into
segments at speaker changes, at pauses after a sentence and, once a segment is long, at
shorter pauses (unpunctuated offline transcripts too).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from studio.core.errors import StudioError
from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Speaker,
    SpeakerId,
    Transcript,
    Word,
    WordType,
    add_speaker,
    check_transcript,
    new_id,
)

FORMAT: Final = "narrator-studio-transcript"
VERSION: Final = 1

#: Segmenting a word stream: a new segment after a sentence end followed by this much pause,
SENTENCE_PAUSE_S: Final = 0.6
#: after any pause this long,
LONG_PAUSE_S: Final = 1.5
#: or at a sentence end once the segment is this long.
MAX_SEGMENT_S: Final = 20.0
#: Unpunctuated speech (the offline recogniser's): a new segment after a pause this long
SHORT_PAUSE_S: Final = 0.5
#: once the segment holds this many words,
SHORT_PAUSE_AFTER_WORDS: Final = 12
#: and never more words or seconds than these: the segment is cut at its largest pause.
HARD_MAX_WORDS: Final = 40
HARD_MAX_S: Final = 15.0
_SENTENCE_END: Final = re.compile(r"[.!?…][\"'”’)\]]*$")


class TranscriptFormatError(StudioError):
    """A transcript file could not be read."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        super().__init__(f"{self.source}: {problem}")


# ---------------------------------------------------------------------------------------------
# Our JSON


def _word_json(w: Word) -> dict[str, Any]:
    out: dict[str, Any] = {"text": w.text, "start": round(w.start, 4), "end": round(w.end, 4),
                           "type": w.type.value, "char_start": w.char_start,
                           "char_end": w.char_end}
    if w.confidence is not None:
        out["confidence"] = round(w.confidence, 4)
    return out


def to_json(t: Transcript) -> dict[str, Any]:
    """Return the transcript as our JSON document."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "language": t.language,
        "media": t.media,
        "duration": t.duration,
        "source": t.source,
        "speakers": [{"id": s.id, "name": s.name, "colour": s.colour} for s in t.speakers],
        "segments": [
            {"id": s.id, "start": round(s.start, 4), "end": round(s.end, 4),
             "speaker": s.speaker_id, "text": s.text, "words_stale": s.words_stale,
             "words": [_word_json(w) for w in s.words]}
            for s in t.segments
        ],
    }


def dumps(t: Transcript) -> str:
    """Return the transcript as our JSON text."""
    return json.dumps(to_json(t), ensure_ascii=False, indent=1)


def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} is not a number")
    return float(value)


def from_json(data: Any, source: str | Path = "transcript") -> Transcript:
    """Read our JSON document, or an ElevenLabs Speech to Text answer.

    Raises:
        TranscriptFormatError: the document is neither, or breaks the model's rules.
    """
    if isinstance(data, dict) and data.get("format") != FORMAT and (
        "words" in data or "transcripts" in data
    ):
        return from_elevenlabs(data, source)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TranscriptFormatError(
            source, "is not a transcript (neither Narrator Studio nor ElevenLabs JSON)"
        )
    if int(data.get("version", 0)) > VERSION:
        raise TranscriptFormatError(
            source, f"was written by a newer version (transcript format {data['version']})"
        )
    try:
        speakers = [Speaker(SpeakerId(str(s["id"])), str(s["name"]), str(s["colour"]))
                    for s in data.get("speakers", [])]
        segments: list[Segment] = []
        for i, s in enumerate(data.get("segments", [])):
            words = tuple(
                Word(str(w["text"]), _num(w["start"], "word start"), _num(w["end"], "word end"),
                     WordType(w.get("type", "word")),
                     None if w.get("confidence") is None else _num(w["confidence"], "confidence"),
                     int(w.get("char_start", 0)), int(w.get("char_end", 0)))
                for w in s.get("words", [])
            )
            segments.append(Segment(
                SegmentId(str(s.get("id") or new_id())), _num(s["start"], f"segment {i + 1} start"),
                _num(s["end"], f"segment {i + 1} end"), SpeakerId(str(s["speaker"])),
                str(s.get("text", "")), words, bool(s.get("words_stale", False)),
            ))
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptFormatError(source, f"is damaged ({exc})") from None
    t = Transcript(speakers, sorted(segments, key=lambda s: s.start),
                   data.get("language"), data.get("media"),
                   None if data.get("duration") is None else float(data["duration"]),
                   str(data.get("source") or ""))
    problems = check_transcript(t)
    if problems:
        raise TranscriptFormatError(source, f"is inconsistent: {problems[0]}")
    return t


def load_json(path: str | Path) -> Transcript:
    """Read a transcript JSON file (ours or ElevenLabs')."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptFormatError(path, "does not exist") from None
    except OSError as exc:
        raise TranscriptFormatError(path, f"could not be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TranscriptFormatError(path, f"is not valid JSON ({exc})") from None
    return from_json(data, path)


def load_transcript(path: str | Path, *, warn: Callable[[str], None] | None = None
                    ) -> Transcript:
    """Read a transcript from JSON, SRT or VTT, chosen by the file's suffix.

    ``warn`` receives what reading a subtitle file had to change (see
    :func:`~studio.core.transcript.subtitles.load_subtitles`).
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".srt", ".vtt"):
        from studio.core.transcript.subtitles import transcript_from_subtitles

        return transcript_from_subtitles(path, warn=warn)
    return load_json(path)


# ---------------------------------------------------------------------------------------------
# ElevenLabs Speech to Text


def _el_words(doc: dict[str, Any], channel: int | None) -> list[tuple[Word, str]]:
    out: list[tuple[Word, str]] = []
    for raw in doc.get("words") or []:
        if not isinstance(raw, dict) or "text" not in raw:
            continue
        try:
            kind = WordType(raw.get("type", "word"))
        except ValueError:
            kind = WordType.WORD
        start = raw.get("start")
        end = raw.get("end")
        if start is None or end is None:
            if kind is WordType.SPACING:
                continue
            start = end = out[-1][0].end if out else 0.0
        logprob = raw.get("logprob")
        confidence = math.exp(min(0.0, float(logprob))) if isinstance(logprob, int | float) \
            else None
        if channel is not None:
            speaker = f"speaker_{channel}"
        else:
            speaker = str(raw.get("speaker_id") or "speaker_0")
        out.append((Word(str(raw["text"]), float(start), max(float(start), float(end)), kind,
                         confidence), speaker))
    return out


def from_elevenlabs(data: Any, source: str | Path = "ElevenLabs answer") -> Transcript:
    """Turn an ElevenLabs Speech to Text answer (single- or multichannel) into a transcript.

    Multichannel answers (``transcripts``) are merged by time, channel *n* as ``speaker_n``.
    """
    if not isinstance(data, dict):
        raise TranscriptFormatError(source, "is not an ElevenLabs transcript")
    if "transcripts" in data:
        stream: list[tuple[Word, str]] = []
        language = None
        for i, doc in enumerate(data.get("transcripts") or []):
            if isinstance(doc, dict):
                language = language or doc.get("language_code")
                stream.extend(_el_words(doc, int(doc.get("channel_index", i))))
        stream.sort(key=lambda item: item[0].start)
    elif "words" in data:
        stream = _el_words(data, None)
        language = data.get("language_code")
    else:
        raise TranscriptFormatError(
            source, "has no words (an accepted webhook request holds no transcript)"
        )
    t = words_to_transcript(stream, language=language, source="elevenlabs")
    duration = data.get("audio_duration_secs")
    if isinstance(duration, int | float):
        t.duration = float(duration)
    return t


def words_to_transcript(stream: Iterable[tuple[Word, str]], *, language: str | None = None,
                        source: str = "", boundaries: Iterable[float] = ()) -> Transcript:
    """Group a time-ordered stream of (word, speaker name) into segments and speakers.

    A segment ends at a speaker change, at an utterance boundary (``boundaries``, seconds:
    the recogniser's cuts), after a pause of :data:`LONG_PAUSE_S`, at a sentence end followed
    by :data:`SENTENCE_PAUSE_S` (or once :data:`MAX_SEGMENT_S` long), after a pause of
    :data:`SHORT_PAUSE_S` once it holds :data:`SHORT_PAUSE_AFTER_WORDS` words, and is cut
    at its largest pause (a sentence end preferred) before it exceeds :data:`HARD_MAX_WORDS`
    words or :data:`HARD_MAX_S` seconds, so unpunctuated speech never becomes one huge
    segment.
    """
    t = Transcript(language=language, source=source)
    speaker_ids: dict[str, SpeakerId] = {}
    current: list[Word] = []
    current_speaker = ""
    cuts = sorted(boundaries)
    next_cut = 0

    def speaker_for(name: str) -> SpeakerId:
        if name not in speaker_ids:
            changes = add_speaker(t, _speaker_label(name, len(speaker_ids)))
            speaker_ids[name] = SpeakerId(next(iter(changes.speakers)))
        return speaker_ids[name]

    def flush(chunk: list[Word]) -> None:
        while chunk and chunk[-1].type is WordType.SPACING:
            chunk.pop()
        while chunk and chunk[0].type is WordType.SPACING:
            chunk.pop(0)
        if not chunk:
            return
        text = ""
        words: list[Word] = []
        for w in chunk:
            piece = w.text
            if w.type is not WordType.SPACING and text and not text[-1].isspace() and (
                not words or words[-1].type is not WordType.SPACING
            ):
                text += " "  # a stream without spacing tokens (another language, or a gap)
            words.append(Word(w.text, w.start, w.end, w.type, w.confidence, len(text),
                              len(text) + len(piece)))
            text += piece
        start, end = words[0].start, max(w.end for w in words)
        if t.segments and start < t.segments[-1].end:
            start = t.segments[-1].end  # overlapping speakers: keep segments disjoint
        end = max(end, start + 0.01)
        words = [_fit(w, start, end) for w in words]
        stripped = text.rstrip()
        t.segments.append(Segment(SegmentId(new_id()), start, end, speaker_for(current_speaker),
                                  stripped, tuple(words)))

    last_spoken: Word | None = None
    spoken = 0  # non-spacing words in ``current``
    for word, speaker in stream:
        if word.type is not WordType.SPACING and current:
            previous_end = last_spoken.end if last_spoken else word.start
            gap = word.start - previous_end
            sentence_done = last_spoken is not None and bool(_SENTENCE_END.search(
                last_spoken.text))
            long_segment = word.start - current[0].start > MAX_SEGMENT_S
            crossed_cut = False
            while next_cut < len(cuts) and cuts[next_cut] <= word.start:
                crossed_cut = crossed_cut or cuts[next_cut] >= previous_end - 1e-6
                next_cut += 1
            if speaker != current_speaker or gap >= LONG_PAUSE_S or crossed_cut or (
                sentence_done and (gap >= SENTENCE_PAUSE_S or long_segment)
            ) or (spoken >= SHORT_PAUSE_AFTER_WORDS and gap >= SHORT_PAUSE_S):
                flush(current)
                current = []
                spoken = 0
            elif spoken >= HARD_MAX_WORDS or word.end - current[0].start > HARD_MAX_S:
                cut = _largest_pause(current, word)
                flush(current[:cut])
                current = current[cut:]
                spoken = sum(w.type is not WordType.SPACING for w in current)
        if not current:
            if word.type is WordType.SPACING:
                continue
            current_speaker = speaker
        current.append(word)
        if word.type is not WordType.SPACING:
            last_spoken = word
            spoken += 1
    flush(current)
    return t


def _largest_pause(words: list[Word], following: Word) -> int:
    """Return where to cut an over-long run of ``words``: at its largest pause (the pause
    before ``following`` included), a sentence end counting as half a second more, keeping
    at least a quarter of the words before the cut."""
    spoken = [i for i, w in enumerate(words) if w.type is not WordType.SPACING]
    best, best_score = len(words), -math.inf
    margin = len(spoken) // 4
    candidates = spoken[max(1, margin):] if len(spoken) > 1 else []
    for i in [*candidates, len(words)]:
        before = max((j for j in spoken if j < i), default=None)
        if before is None:
            continue
        start = words[i].start if i < len(words) else following.start
        score = start - words[before].end
        if _SENTENCE_END.search(words[before].text):
            score += 0.5
        if score >= best_score - 1e-6:  # the latest of equal pauses: the longest segment
            best, best_score = i, score
    return best


def _fit(w: Word, start: float, end: float) -> Word:
    s = min(max(w.start, start), end)
    return Word(w.text, s, min(max(w.end, s), end), w.type, w.confidence, w.char_start,
                w.char_end)


def _speaker_label(name: str, index: int) -> str:
    match = re.fullmatch(r"speaker_(\d+)", name)
    if match:
        return f"Speaker {int(match.group(1)) + 1}"
    return name or f"Speaker {index + 1}"


# ---------------------------------------------------------------------------------------------
# Exports


def _clock(seconds: float) -> str:
    total_ms = round(seconds * 1000)
    h, rest = divmod(total_ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def export_text(t: Transcript, *, speakers: bool = True, timestamps: bool = False) -> str:
    """Return plain text: one paragraph per segment, optionally with speaker and time."""
    names = {s.id: s.name for s in t.speakers}
    lines: list[str] = []
    for s in t.segments:
        head = ""
        if timestamps:
            head += f"[{_clock(s.start)} --> {_clock(s.end)}] "
        if speakers and len(t.speakers) > 1:
            head += f"{names.get(s.speaker_id, '?')}: "
        lines.append(head + s.text)
    return "\n\n".join(lines) + ("\n" if lines else "")


def export_html(t: Transcript, title: str = "Transcript") -> str:
    """Return a standalone HTML page; each word carries ``data-start``/``data-end`` seconds."""
    speakers = {s.id: s for s in t.speakers}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="{}">'.format(html.escape(t.language or "en")),
        f'<head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}"
        ".speaker{font-weight:bold}.time{color:#777;font-size:smaller}</style></head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in t.segments:
        speaker = speakers.get(s.speaker_id)
        name = html.escape(speaker.name if speaker else "")
        colour = html.escape(speaker.colour if speaker else "#000000")
        if s.words:
            body = ""
            cursor = 0
            for w in s.words:
                if w.type is WordType.SPACING or w.char_end <= cursor:
                    continue
                body += html.escape(s.text[cursor:w.char_start])
                body += (f'<span data-start="{w.start:.3f}" data-end="{w.end:.3f}">'
                         f"{html.escape(s.text[w.char_start:w.char_end])}</span>")
                cursor = w.char_end
            body += html.escape(s.text[cursor:])
        else:
            body = html.escape(s.text)
        parts.append(
            f'<p data-start="{s.start:.3f}" data-end="{s.end:.3f}">'
            f'<span class="speaker" style="color:{colour}">{name}</span> '
            f'<span class="time">{_clock(s.start)}</span><br>{body}</p>'
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def export(t: Transcript, fmt: str) -> str:
    """Return the transcript in ``fmt``: ``txt``, ``json`` or ``html``."""
    if fmt == "txt":
        return export_text(t)
    if fmt == "json":
        return dumps(t) + "\n"
    if fmt == "html":
        return export_html(t)
    raise StudioError(f"unknown transcript format {fmt!r} (use txt, json or html)")
