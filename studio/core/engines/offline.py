"""Offline speech with espeak-ng, loaded from the espeakng-loader wheel through ctypes.

libespeak-ng is a process-wide singleton: a second initialisation or callback registration
steals the first one's audio. So this module initialises it once per process, keeps the one
ctypes callback referenced for the life of the process, and serialises every call into the
library with ``_LOCK``. Synthesis can run on any worker thread; concurrent requests queue.

Voice ids are espeak names: a base voice (``en-us``, ``en-gb-x-rp``, ``fr``, ...) optionally
followed by ``+`` and a variant file from ``espeak-ng-data/voices/!v`` (``en-us+f3``,
``en+Annie``). Variant names are matched case-insensitively; espeak itself would silently
ignore an unknown variant, so unknown ones are refused here.

Text goes to espeak as SSML with ``&<>`` escaped, so user text cannot break the markup.
``<break time="1.5s"/>`` becomes silence inserted between the words around it (espeak's own
SSML break would replace the pause after a full stop instead of adding to it). Word timings
come from espeak's WORD events mapped back to the original text; the words espeak skips
(clitics such as "the") are interpolated.
"""

from __future__ import annotations

import bisect
import ctypes
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from studio.core import audio
from studio.core.engines import (
    Capability,
    CharacterLimitExceeded,
    EngineError,
    EngineModel,
    EngineUnavailable,
    EngineVoice,
    RequestInvalid,
    SpeechRequest,
    SpeechResult,
    VoiceNotFound,
)
from studio.core.errors import Cancelled, CancelToken
from studio.core.model import CharTimings, PronunciationRule, WordTiming

MODEL_ID: Final = "offline-espeak"
MAX_CHARACTERS: Final = 100_000
SAMPLE_RATE: Final = 22050  # what espeak_Initialize reports for every voice
OUTPUT_FORMAT: Final = f"wav_{SAMPLE_RATE}"

_DEFAULT_WPM: Final = 175  # espeak's default rate, used for speed 1.0
_MIN_WPM: Final = 80
_MAX_WPM: Final = 450
_MAX_BREAK_S: Final = 3.0  # ElevenLabs' documented maximum; keeps offline previews faithful
_SILENCE: Final = 64  # |int16| at or below this counts as silence (espeak pauses are exact 0)
_FRAME: Final = 110  # samples per 5 ms silence-detection frame
_START_SLACK: Final = 4  # frames past a word-start event still searched for a pause
_END_GUARD: Final = 2  # frames before the next word's event not searched for a word's end
_LOCK_POLL_S: Final = 0.05  # how often a request queued behind another checks its CancelToken

# espeak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS: Final = 2
_POS_CHARACTER: Final = 1
_CHARS_UTF8: Final = 1
_SSML: Final = 0x10
_PHONEMES: Final = 0x100  # espeakPHONEMES: read [[...]] as espeak phoneme input
_PARAM_RATE: Final = 1
_EVENT_LIST_TERMINATED: Final = 0
_EVENT_WORD: Final = 1

# Variants offered with every English base voice, besides f1-f5 and m1-m7 (file names in
# espeak-ng-data/voices/!v; missing ones are skipped).
_NAMED_VARIANTS: Final = (
    "Annie", "Alicia", "belinda", "steph", "grandma", "grandpa", "whisper", "whisperf",
)
_NUMBERED_VARIANTS: Final = tuple(f"f{i}" for i in range(1, 6)) + tuple(
    f"m{i}" for i in range(1, 8)
)


class _Event(ctypes.Structure):
    """espeak_EVENT."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based code-point index into the text sent
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # union {int number; char *name; char string[8]}
    )


class _Voice(ctypes.Structure):
    """espeak_VOICE."""

    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated code)*, then 0
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(slots=True)
class _Capture:
    """Audio and word events collected by the callback for one synthesis."""

    cancel: CancelToken | None
    chunks: list[bytes] = field(default_factory=list)
    words: list[tuple[int, int, int]] = field(default_factory=list)  # (position, length, ms)
    aborted: bool = False
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class _VoiceEntry:
    """One base espeak voice."""

    voice_id: str  # lower-case file name, what espeak_SetVoiceByName accepts
    name: str  # espeak's language name, e.g. "English (America)"
    language: str  # first language code, e.g. "en-us"
    identifier: str  # path under espeak-ng-data, e.g. "gmw/en-US"


@dataclass(frozen=True, slots=True)
class _VariantEntry:
    """One variant file from voices/!v."""

    file_name: str
    label: str  # readable, e.g. "female 3"
    gender: str  # "female", "male" or ""


@dataclass(frozen=True, slots=True)
class _Catalog:
    """The voices this espeak installation offers."""

    bases: tuple[_VoiceEntry, ...]
    variants: dict[str, _VariantEntry]  # lower-case file name -> entry
    voices: tuple[EngineVoice, ...]


class _Espeak:
    """The process's one libespeak-ng instance; call its methods only while holding _LOCK."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise EngineUnavailable(
                "The offline voice engine is not installed (Python package espeakng-loader "
                "is missing); reinstall Narrator Studio or run 'pip install espeakng-loader'."
            ) from exc
        library_path = Path(espeakng_loader.get_library_path())
        self.data_dir = Path(espeakng_loader.get_data_path())
        if not (self.data_dir / "phontab").is_file():
            raise EngineUnavailable(
                f"The offline voice data is missing ({self.data_dir}); reinstall Narrator "
                "Studio or the espeakng-loader package."
            )
        try:
            # By absolute path: espeakng_loader.make_library_available() only sets
            # LD_LIBRARY_PATH, which the running process never rereads.
            lib: Any = ctypes.CDLL(str(library_path))
        except OSError as exc:
            raise EngineUnavailable(
                f"The offline voice library could not be loaded ({library_path}: {exc}); "
                "reinstall Narrator Studio or the espeakng-loader package."
            ) from exc
        lib.espeak_Initialize.argtypes = (
            ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int
        )
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = ()
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = (ctypes.c_void_p,)
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))

        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_dir.parent).encode(), 0
        )
        if rate <= 0:
            raise EngineUnavailable(
                f"The offline voice engine could not start (espeak-ng error {rate}); "
                "reinstall Narrator Studio or the espeakng-loader package."
            )
        if rate != SAMPLE_RATE:
            raise EngineUnavailable(
                f"The offline voice engine reports {rate} Hz instead of {SAMPLE_RATE} Hz; "
                "this espeak-ng build is not supported."
            )
        self.lib = lib
        self._capture: _Capture | None = None
        # espeak keeps only the raw function pointer: this object must outlive every call.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        self.catalog = _build_catalog(lib, self.data_dir)

    def _on_synth(self, wav: Any, numsamples: int, events: Any) -> int:
        """Collect audio and WORD events; return 1 to make espeak abort."""
        capture = self._capture
        if capture is None:
            return 1
        try:
            if numsamples > 0 and wav:
                capture.chunks.append(ctypes.string_at(wav, numsamples * 2))
            if events:
                index = 0
                while (event := events[index]).type != _EVENT_LIST_TERMINATED:
                    if event.type == _EVENT_WORD:
                        capture.words.append(
                            (event.text_position, event.length, event.audio_position)
                        )
                    index += 1
            if capture.cancel is not None and capture.cancel.cancelled:
                capture.aborted = True
                return 1
        except BaseException as exc:  # an exception must not cross back into C
            capture.error = exc
            return 1
        return 0

    def synthesize(self, voice: str, wpm: int, ssml: str, cancel: CancelToken | None,
                   phonemes: bool = False) -> _Capture:
        """Speak SSML text with a voice at a rate; return what the callback collected."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise VoiceNotFound(f"The offline voice {voice!r} could not be loaded.")
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        data = ssml.encode("utf-8") + b"\0"
        capture = _Capture(cancel)
        self._capture = capture
        try:
            status = self.lib.espeak_Synth(
                data, len(data), 0, _POS_CHARACTER, 0,
                _CHARS_UTF8 | _SSML | (_PHONEMES if phonemes else 0), None, None
            )
            self.lib.espeak_Synchronize()
        finally:
            self._capture = None
        if status != 0 and not capture.aborted and capture.error is None:
            raise EngineError(
                f"The offline voice engine could not speak this text (error {status})."
            )
        return capture


_LOCK = threading.Lock()  # guards _RUNTIME and every call into libespeak-ng
_RUNTIME: _Espeak | None = None


def _runtime_locked() -> _Espeak:
    """Return the process's espeak instance, creating it on first use (hold _LOCK)."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = _Espeak()
    return _RUNTIME


def _catalog() -> _Catalog:
    """Return the voice catalog, starting espeak if needed."""
    runtime = _RUNTIME
    if runtime is None:
        with _LOCK:
            runtime = _runtime_locked()
    return runtime.catalog


# ---------------------------------------------------------------------------------------------
# Voices


def _languages(pointer: int | None) -> list[str]:
    """Decode espeak_VOICE.languages: (priority byte, NUL-terminated code) pairs, then 0."""
    codes: list[str] = []
    while pointer and ctypes.c_ubyte.from_address(pointer).value != 0:
        code = ctypes.string_at(pointer + 1)
        codes.append(code.decode("utf-8", "replace"))
        pointer += len(code) + 2
    return codes


def _voice_file_fields(path: Path) -> dict[str, str]:
    """Return the first value of each keyword in an espeak voice/variant file."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        parts = line.split("//", 1)[0].split(None, 1)
        if len(parts) == 2 and not parts[0].startswith("#"):
            fields.setdefault(parts[0].lower(), parts[1].strip())
    return fields


def _has_dictionary(data_dir: Path, identifier: str, language: str) -> bool:
    """Return whether a voice's dictionary ships (the wheel lacks a few, e.g. Faroese)."""
    fields = _voice_file_fields(data_dir / "lang" / identifier)
    if not fields:
        fields = _voice_file_fields(data_dir / "voices" / identifier)
    dictionary = fields.get("dictionary", "").split()
    name = dictionary[0] if dictionary else language.split("-")[0]
    return not name or (data_dir / f"{name}_dict").is_file()


def _variant_label(name: str) -> str:
    """Make a variant's name readable: "female3" -> "female 3", "female_whisper" -> ..."""
    label = name.replace("_", " ").strip()
    return re.sub(r"(?<=[a-z])(?=\d)", " ", label)


def _build_catalog(lib: Any, data_dir: Path) -> _Catalog:
    """List espeak's base voices and the variants offered for English voices."""
    bases: list[_VoiceEntry] = []
    listing = lib.espeak_ListVoices(None)
    index = 0
    while listing and listing[index]:
        voice = listing[index].contents
        identifier = (voice.identifier or b"").decode("utf-8", "replace")
        languages = _languages(voice.languages)
        name = (voice.name or b"").decode("utf-8", "replace").strip()
        index += 1
        if not identifier or not languages:
            continue
        if not _has_dictionary(data_dir, identifier, languages[0]):
            continue
        voice_id = identifier.rsplit("/", 1)[-1].lower()
        bases.append(_VoiceEntry(voice_id, name or voice_id, languages[0], identifier))

    variants: dict[str, _VariantEntry] = {}
    variant_dir = data_dir / "voices" / "!v"
    if variant_dir.is_dir():
        for path in sorted(variant_dir.iterdir()):
            if path.is_file():
                fields = _voice_file_fields(path)
                gender = fields.get("gender", "").split()
                variants[path.name.lower()] = _VariantEntry(
                    file_name=path.name,
                    label=_variant_label(fields.get("name", path.name)),
                    gender=gender[0].lower() if gender else "male",  # espeak default
                )
    offered = [
        variants[key.lower()]
        for key in (*_NUMBERED_VARIANTS, *_NAMED_VARIANTS)
        if key.lower() in variants
    ]

    voices: list[EngineVoice] = []
    for base in bases:
        voices.append(EngineVoice(
            voice_id=base.voice_id,
            name=base.name,
            category="offline",
            labels={"language": base.language, "gender": "male"},
            description=f"espeak-ng voice {base.identifier}",
        ))
        if base.language.split("-")[0] != "en" or base.voice_id == "en-shaw":
            continue
        for variant in offered:
            voices.append(EngineVoice(
                voice_id=f"{base.voice_id}+{variant.file_name}",
                name=f"{base.name} — {variant.label}",
                category="offline",
                labels={
                    "language": base.language,
                    "gender": variant.gender,
                    "variant": variant.file_name,
                },
                description=f"espeak-ng voice {base.identifier}, variant {variant.file_name}",
            ))
    return _Catalog(tuple(bases), variants, tuple(voices))


def _resolve_voice(voice_id: str, catalog: _Catalog) -> str:
    """Return the espeak voice name for a voice id, or raise VoiceNotFound."""
    base, plus, variant = voice_id.strip().partition("+")
    base_key = base.strip().lower()
    known = {entry.voice_id for entry in catalog.bases}
    if base_key not in known:
        raise VoiceNotFound(
            f"The offline voice {voice_id!r} does not exist; pick one from the offline voice "
            "list (for example 'en-us' or 'en-us+f3')."
        )
    if not plus:
        return base_key
    entry = catalog.variants.get(variant.strip().lower())
    if entry is None:
        raise VoiceNotFound(
            f"The offline voice {voice_id!r} has an unknown variant {variant!r}; pick one from "
            "the offline voice list (for example 'en-us+f3')."
        )
    return f"{base_key}+{entry.file_name}"


# ---------------------------------------------------------------------------------------------
# Text: ElevenLabs markup -> espeak SSML, with a map back to the original characters

_MARKUP_RE: Final = re.compile(
    r"(?P<brk>(?i:<break\b[^<>]*?/?>))"  # <break time="1.5s" />
    r"|(?P<phoneme>(?i:</?phoneme\b[^<>]*>))"  # pronunciation hint: keep the word, drop the tag
    r"|(?P<tag>\[[a-z][a-z' -]{0,40}\])"  # eleven_v3 audio tag such as [whispers]
)
_BREAK_TIME_RE: Final = re.compile(
    r"""time\s*=\s*["']?\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?""", re.IGNORECASE
)
_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CLAUSE_ENDS: Final = ".,;:!?…—–-"  # espeak pauses after these by itself
_CLOSERS: Final = "\"'”’»)]}"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Text as sent to espeak, where each of its characters came from, and the pauses."""

    ssml: str
    origin: tuple[int, ...]  # origin[i] = index in the original text of ssml[i]
    words: tuple[tuple[int, int], ...]  # [start, end) of each spoken word in the original
    breaks: tuple[tuple[int, float], ...]  # (index in ssml, seconds) of each break tag
    phonemes: bool = False  # the SSML holds [[...]] phoneme input (from phoneme rules)


def _break_seconds(tag: str) -> float:
    """Return the pause an ElevenLabs break tag asks for, capped at 3 s (0 if it has no time)."""
    match = _BREAK_TIME_RE.search(tag)
    if match is None:
        return 0.0
    value = float(match.group(1))
    seconds = value / 1000 if (match.group(2) or "s").lower() == "ms" else value
    return min(max(seconds, 0.0), _MAX_BREAK_S)


def _prepare(text: str, lexicon: tuple[PronunciationRule, ...] = ()) -> _Prepared:
    """Turn request text into espeak SSML, keeping a map back to ``text`` positions.

    Break tags are taken out of the text and come back as silence inserted into the audio
    (see _insert_breaks): espeak's own SSML break *replaces* the pause after punctuation, so
    "Done. <break time="0.3s"/> Next" would come out shorter than without the tag.

    Pronunciation rules in ``lexicon`` are applied here: an alias replaces its word, a
    phoneme rule becomes espeak phoneme input ``[[...]]``; both keep pointing back at the
    original word, so timings stay on the text as written.
    """
    rules: dict[int, tuple[int, str]] = {}  # start -> (end, what espeak is sent instead)
    if lexicon:
        from studio.core.lexicon.match import Matcher
        from studio.core.lexicon.phonemes import PhonemeError, to_espeak

        for hit in Matcher(lexicon).find(text):
            rule = hit.rule
            if rule.kind == "alias":
                rules[hit.start] = (hit.end, "".join(_ESCAPES.get(c, c) for c in
                                                     rule.replacement if c not in "[]\0"))
            else:
                try:
                    spelled = to_espeak(rule.replacement, rule.alphabet)
                    rules[hit.start] = (hit.end, f" [[{spelled}]] ")
                except PhonemeError:
                    continue  # an unreadable rule leaves the word as written
    use_phonemes = any(sent.startswith(" [[") for _, sent in rules.values())
    pieces: list[str] = []
    origin: list[int] = []
    breaks: list[tuple[int, float]] = []
    masked = list(text)  # text with markup blanked out, to find the spoken words

    def emit(chunk: str, source: int) -> None:
        pieces.append(chunk)
        origin.extend([source] * len(chunk))

    def emit_text(start: int, stop: int) -> None:
        index = start
        while index < stop:
            rule = rules.get(index)
            if rule is not None and rule[0] <= stop:
                emit(rule[1], index)
                index = rule[0]
                continue
            char = text[index]
            if char == "[" and use_phonemes:
                char = "("  # user text must not open phoneme input
            if char != "\0":  # would end the C string
                emit(_ESCAPES.get(char, char), index)
            index += 1

    cursor = 0
    for match in _MARKUP_RE.finditer(text):
        emit_text(cursor, match.start())
        masked[match.start():match.end()] = " " * (match.end() - match.start())
        if match.group("brk"):
            seconds = _break_seconds(match.group())
            if seconds > 0:
                breaks.append((len(origin), seconds))
                spoken_before = "".join(masked[:match.start()]).rstrip().rstrip(_CLOSERS)
                if spoken_before and spoken_before[-1] not in _CLAUSE_ENDS:
                    # Mid-clause, espeak runs the words together ("for the" is one unit);
                    # a 1 ms SSML break splits them so the silence can go in between.
                    emit(' <break time="1ms"/> ', match.start())
                else:
                    emit(" ", match.start())
            else:
                emit(" ", match.start())
        elif match.group("tag"):
            emit(" ", match.start())
        cursor = match.end()
    emit_text(cursor, len(text))
    words = tuple(
        (found.start(), found.end()) for found in re.finditer(r"\S+", "".join(masked))
    )
    return _Prepared("".join(pieces), tuple(origin), words, tuple(breaks), use_phonemes)


def _frame_peaks(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int32]:
    """Return the peak |sample| of each 5 ms frame (the last one may be partial)."""
    n_full = len(pcm) // _FRAME
    frames = pcm[: n_full * _FRAME].reshape(n_full, _FRAME)
    # Reduce in int16 (no full-length copies: an hour of audio is 80M samples), widen after.
    peaks = np.maximum(frames.max(axis=1).astype(np.int32), -frames.min(axis=1).astype(np.int32))
    tail = pcm[n_full * _FRAME:]
    if len(tail):
        peaks = np.append(peaks, max(int(tail.max()), -int(tail.min())))
    return peaks.astype(np.int32)


def _insert_breaks(
    pcm: npt.NDArray[np.int16], events: list[tuple[int, int, int]],
    breaks: tuple[tuple[int, float], ...],
) -> tuple[npt.NDArray[np.int16], list[tuple[int, int, int]]]:
    """Insert each break's silence between the words around it; shift later events to match.

    The silence goes into the middle of the last pause before the word after the break (so a
    break after a full stop adds to the sentence pause); if there is no pause, it goes at the
    quietest point just before that word, with 5 ms fades so the cut does not click.
    """
    if not breaks:
        return pcm, events
    frame_peaks = _frame_peaks(pcm)
    n_frames = len(frame_peaks)
    inserts: list[tuple[int, int, bool]] = []  # (sample index, silent samples, needs fades)
    shifts: list[tuple[int, int]] = []  # (index in ssml, silent samples)
    for sent_index, seconds in breaks:
        before = [ms for position, _, ms in events if position - 1 < sent_index]
        after = [ms for position, _, ms in events if position - 1 >= sent_index]
        low = max(before, default=0) * SAMPLE_RATE // 1000 // _FRAME
        high = (min(after) * SAMPLE_RATE // 1000 // _FRAME) if after else n_frames
        high = min(max(high, low), n_frames)
        length = round(seconds * SAMPLE_RATE)
        shifts.append((sent_index, length))
        if not after or high <= low:
            inserts.append((min(high * _FRAME, len(pcm)) if after else len(pcm), length, False))
            continue
        # The word-start event can come a frame before the silence that precedes the word.
        quiet = frame_peaks[low:min(n_frames, high + _START_SLACK)] <= _SILENCE
        edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
        run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if len(run_starts):
            # The last silent run before the next word: the sentence pause, or the gap the
            # 1 ms SSML break made (not a stop consonant inside the previous word).
            middle = (int(run_starts[-1]) + int(run_ends[-1])) // 2
            inserts.append(((low + middle) * _FRAME, length, False))
        else:
            near = max(low, high - 12)  # the last ~60 ms before the next word
            quietest = near + int(np.argmin(frame_peaks[near:high + 1]))
            inserts.append((quietest * _FRAME, length, True))

    merged: dict[int, tuple[int, bool]] = {}  # breaks in one gap become one silence
    for index, length, fades in inserts:
        total, faded = merged.get(index, (0, False))
        merged[index] = (total + length, faded or fades)
    fade = 5 * SAMPLE_RATE // 1000
    pieces: list[npt.NDArray[np.int16]] = []
    cursor = 0
    for index, (length, fades) in sorted(merged.items()):
        index = min(max(index, cursor), len(pcm))
        chunk = pcm[cursor:index]
        if fades and len(chunk):
            ramp = min(fade, len(chunk))
            tail = chunk[-ramp:] * np.linspace(1.0, 0.0, ramp)
            chunk = np.concatenate((chunk[:-ramp], np.rint(tail).astype(np.int16)))
        pieces.extend((chunk, np.zeros(length, dtype=np.int16)))
        cursor = index
        if fades and index < len(pcm):
            ramp = min(fade, len(pcm) - index)
            head = pcm[index:index + ramp] * np.linspace(0.0, 1.0, ramp)
            pieces.append(np.rint(head).astype(np.int16))
            cursor = index + ramp
    pieces.append(pcm[cursor:])
    joined = np.concatenate(pieces)

    # Shift by text order, not by time: a word after the break moves, one before never does.
    shifted = []
    for position, length_chars, ms in events:
        added = sum(length for sent_index, length in shifts if position - 1 >= sent_index)
        shifted.append((position, length_chars, ms + round(added * 1000 / SAMPLE_RATE)))
    return joined, shifted


# ---------------------------------------------------------------------------------------------
# Timings


def _speech_end(last_loud: npt.NDArray[np.int64], n_samples: int) -> float:
    """Return when the last audible frame ends, in seconds."""
    if not len(last_loud) or last_loud[-1] < 0:
        return 0.0
    return min(n_samples, (int(last_loud[-1]) + 1) * _FRAME) / SAMPLE_RATE


def _word_timings(
    text: str, prepared: _Prepared, events: list[tuple[int, int, int]],
    pcm: npt.NDArray[np.int16],
) -> tuple[WordTiming, ...]:
    """Time every word of ``text`` from espeak's WORD events, interpolating the missing ones.

    espeak gives no event for unstressed function words it joins to a neighbour ("for the
    family" has events for "for" and "family" only), so a word without an event gets a start
    interpolated by character offset between its timed neighbours. A word ends where the next
    one starts, less any silence (a pause or a break) at the end of its span.
    """
    words = prepared.words
    if not words:
        return ()
    duration = len(pcm) / SAMPLE_RATE
    loud = _frame_peaks(pcm) > _SILENCE
    n_frames = len(loud)
    last_loud = np.maximum.accumulate(np.where(loud, np.arange(n_frames), -1))
    speech_end = _speech_end(last_loud, len(pcm))

    starts_at = [start for start, _ in words]
    char_word = np.full(len(text) + 1, -1, dtype=np.int64)
    for number, (first_char, stop_char) in enumerate(words):
        char_word[first_char:stop_char] = number

    times: list[float | None] = [None] * len(words)
    last_word, last_time = -1, 0.0
    for position, _length, milliseconds in events:
        sent_index = position - 1
        if not 0 <= sent_index < len(prepared.origin):
            continue
        source = prepared.origin[sent_index]
        number = int(char_word[source])
        if number < 0:  # an event between words belongs to the next one
            number = bisect.bisect_left(starts_at, source)
        if number >= len(words) or number <= last_word:
            continue  # a second event inside one word ("déjà vu"), or out of order
        last_time = max(last_time, min(milliseconds / 1000, duration))
        times[number] = last_time
        last_word = number

    anchor_chars = [starts_at[i] for i, t in enumerate(times) if t is not None]
    anchor_times = [t for t in times if t is not None]
    if times[0] is None:
        anchor_chars.insert(0, starts_at[0])
        anchor_times.insert(0, 0.0)
    if times[-1] is None:
        anchor_chars.append(len(text) + 1)
        anchor_times.append(max(speech_end, anchor_times[-1]))
    starts = np.interp(starts_at, anchor_chars, anchor_times)
    starts = np.maximum.accumulate(np.clip(starts, 0.0, duration))

    timings: list[WordTiming] = []
    for number, (char_start, char_end) in enumerate(words):
        start = float(starts[number])
        end = float(starts[number + 1]) if number + 1 < len(words) else max(start, speech_end)
        # Look back from just before the next word (its sound can start a few ms before its
        # event); if the span ends in silence, the word ends where its sound does.
        first = int(start * SAMPLE_RATE) // _FRAME
        probe = min(n_frames, int(end * SAMPLE_RATE) // _FRAME) - _END_GUARD
        if probe >= first and first <= last_loud[probe] < probe:
            end = min(end, (int(last_loud[probe]) + 1) * _FRAME / SAMPLE_RATE)
        end = min(max(end, start), duration)
        timings.append(WordTiming(text[char_start:char_end], char_start, char_end, start, end))
    return tuple(timings)


def _char_timings(text: str, words: tuple[WordTiming, ...], duration: float) -> CharTimings:
    """Spread each word's span over its characters and each gap over the characters between."""
    starts = np.zeros(len(text), dtype=np.float64)
    ends = np.zeros(len(text), dtype=np.float64)

    def spread(first: int, stop: int, begin: float, finish: float) -> None:
        count = stop - first
        if count <= 0:
            return
        edges = np.linspace(begin, max(begin, finish), count + 1)
        starts[first:stop] = edges[:-1]
        ends[first:stop] = edges[1:]

    cursor, clock = 0, 0.0
    for word in words:
        spread(cursor, word.char_start, clock, word.start)
        spread(word.char_start, word.char_end, word.start, word.end)
        cursor, clock = word.char_end, word.end
    spread(cursor, len(text), clock, duration)
    np.clip(starts, 0.0, duration, out=starts)
    np.clip(ends, starts, duration, out=ends)
    return CharTimings(
        characters=tuple(text),
        starts=tuple(float(value) for value in starts),
        ends=tuple(float(value) for value in ends),
    )


# ---------------------------------------------------------------------------------------------
# Engine


def _words_per_minute(speed: float) -> int:
    """Map an ElevenLabs-style speed factor onto espeak's rate in words per minute."""
    if not math.isfinite(speed) or speed <= 0:
        raise RequestInvalid(f"Speed must be a positive number, not {speed}.", "speed")
    return max(_MIN_WPM, min(_MAX_WPM, round(_DEFAULT_WPM * speed)))


def text_to_phonemes(text: str, voice: str = "en-us") -> str:
    """Return the IPA espeak-ng would speak for plain ``text`` (what a rule would change)."""
    with _LOCK:
        runtime = _runtime_locked()
        lib = runtime.lib
        lib.espeak_TextToPhonemes.argtypes = (ctypes.POINTER(ctypes.c_void_p), ctypes.c_int,
                                              ctypes.c_int)
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        if lib.espeak_SetVoiceByName(_resolve_voice(voice, runtime.catalog).encode()) != 0:
            raise VoiceNotFound(f"The offline voice {voice!r} could not be loaded.")
        buffer = ctypes.create_string_buffer(text.replace("\0", " ").encode("utf-8"))
        pointer = ctypes.c_void_p(ctypes.addressof(buffer))
        out: list[str] = []
        while pointer.value:
            # mode 2: IPA; the pointer advances clause by clause and ends NULL
            chunk = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, 0x02)
            if chunk:
                out.append(chunk.decode("utf-8", "replace"))
        return " ".join(out).strip()


class OfflineEngine:
    """Speak with espeak-ng on this computer: no key, no network, no cost."""

    name = "offline"
    capabilities = Capability.TTS | Capability.TIMESTAMPS

    def voices(self) -> list[EngineVoice]:
        """Return every espeak base voice, plus variants for the English ones."""
        return list(_catalog().voices)

    def models(self) -> list[EngineModel]:
        """Return the one offline model."""
        return [EngineModel(MODEL_ID, "Offline (espeak-ng)", MAX_CHARACTERS,
                            supports_stitching=False, cost_multiplier=0.0)]

    def synthesize(self, request: SpeechRequest, cancel: CancelToken | None = None) -> SpeechResult:
        """Speak ``request.text``; return 16-bit WAV at 22050 Hz with word and character timings.

        ``request.output_format``, ``model_id`` and stitching fields are ignored: the result
        is always ``wav_22050``. ``<break time="…"/>`` tags add that much silence (up to 3 s)
        between the words around them; phoneme tags and v3 audio tags such as ``[whispers]``
        are dropped. ``request.lexicon`` rules are applied (aliases as text, phoneme rules
        as espeak phoneme input).

        Raises:
            VoiceNotFound: ``request.voice_id`` is not an offline voice.
            RequestInvalid: the text is empty or too long, or the speed is not positive.
            Cancelled: ``cancel`` was cancelled before or during synthesis.
            EngineUnavailable: espeak-ng cannot be loaded on this computer.
        """
        what = "offline speech"
        if cancel is not None:
            cancel.raise_if_cancelled(what)
        text = request.text
        if not text.strip():
            raise RequestInvalid("There is no text to speak.", "text")
        if len(text) > MAX_CHARACTERS:
            raise CharacterLimitExceeded(
                f"The text has {len(text):,} characters; the offline engine speaks at most "
                f"{MAX_CHARACTERS:,} per request. Split the paragraph.", "text"
            )
        wpm = _words_per_minute(request.params.speed)
        voice = _resolve_voice(request.voice_id, _catalog())
        prepared = _prepare(text, request.lexicon)

        # Queue behind other requests without becoming deaf to cancellation.
        while not _LOCK.acquire(timeout=_LOCK_POLL_S):
            if cancel is not None:
                cancel.raise_if_cancelled(what)
        try:
            capture = _runtime_locked().synthesize(voice, wpm, prepared.ssml, cancel,
                                                   prepared.phonemes)
        finally:
            _LOCK.release()

        if capture.error is not None:
            raise EngineError(
                f"The offline voice engine failed ({capture.error!r})."
            ) from capture.error
        if capture.aborted:
            raise Cancelled(what)
        pcm = np.frombuffer(b"".join(capture.chunks), dtype=np.int16)
        pcm, events = _insert_breaks(pcm, capture.words, prepared.breaks)
        duration = len(pcm) / SAMPLE_RATE
        words = _word_timings(text, prepared, events, pcm)
        return SpeechResult(
            audio=audio.encode_wav(pcm, SAMPLE_RATE),
            format=OUTPUT_FORMAT,
            sample_rate=SAMPLE_RATE,
            duration=duration,
            request_id=None,
            cost=0,
            char_timings=_char_timings(text, words, duration),
            word_timings=words,
            completed_at=time.time(),
        )


__all__ = ["MAX_CHARACTERS", "MODEL_ID", "OUTPUT_FORMAT", "SAMPLE_RATE", "OfflineEngine",
           "text_to_phonemes"]
