"""``studio transcribe``, ``studio align`` and ``studio subtitles``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from studio.cli_render import positive_int
from studio.core.errors import StudioError

SUBCOMMANDS = ("transcribe", "align", "subtitles")


def add_parsers(sub: Any) -> None:
    """Add the transcript subcommands."""
    p = sub.add_parser(
        "transcribe",
        help="transcribe an audio or video file to a transcript JSON",
        description="Transcribe speech in an audio or video file. 'elevenlabs' (Speech to "
        "Text: up to 1 GB and 4.5 h, speakers by diarisation) needs an API key; 'offline' "
        "(PocketSphinx, English only) is free but rough.",
    )
    p.add_argument("media", metavar="MEDIA", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="TRANSCRIPT.json")
    p.add_argument("--engine", choices=("offline", "elevenlabs"), default=None,
                   help="default: elevenlabs when an API key is configured, else offline")
    p.add_argument("--language", metavar="L", help="ISO-639 language code (default: detect)")
    p.add_argument("--speakers", type=positive_int, metavar="N",
                   help="at most N speakers (turns on diarisation; ElevenLabs only)")
    p.add_argument("--multichannel", action="store_true",
                   help="one speaker per channel, up to 5 (ElevenLabs only)")
    p.add_argument("--no-audio-events", action="store_true",
                   help="do not tag laughter, applause... (ElevenLabs only)")
    p.add_argument("--force", action="store_true", help="replace the output if it exists")

    p = sub.add_parser(
        "align",
        help="time every word of a known text in an audio or video file",
        description="Align a plain-text file to the media and write "
        '{"words": [{"text", "start", "end"}]} in seconds, one entry per whitespace-separated '
        "word of the text. Offline (PocketSphinx, English) by default.",
    )
    p.add_argument("media", metavar="MEDIA", type=Path)
    p.add_argument("text", metavar="TEXT", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="TIMINGS.json")
    p.add_argument("--engine", choices=("offline", "elevenlabs"), default="offline")
    p.add_argument("--lexicon", type=Path, metavar="FILE.pls", action="append", default=[],
                   help="pronunciation rules (PLS) for the offline aligner; repeatable")
    p.add_argument("--force", action="store_true", help="replace the output if it exists")

    p = sub.add_parser(
        "subtitles",
        help="make SRT or VTT subtitles from a transcript",
        description="Build subtitle cues from a transcript (JSON, SRT or VTT) under the rules "
        "and write SRT or VTT. Cues that break a rule are listed on stderr.",
    )
    p.add_argument("transcript", metavar="TRANSCRIPT", type=Path)
    p.add_argument("--format", choices=("srt", "vtt"), required=True)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT")
    p.add_argument("--max-chars", type=positive_int, default=42, metavar="N",
                   help="characters per line (default 42)")
    p.add_argument("--max-lines", type=positive_int, default=2, metavar="N",
                   help="lines per cue (default 2)")
    p.add_argument("--min-duration", type=float, default=1.0, metavar="S")
    p.add_argument("--max-duration", type=float, default=7.0, metavar="S")
    p.add_argument("--force", action="store_true", help="replace the output if it exists")


def _check_output(output: Path, inputs: tuple[Path, ...], force: bool) -> None:
    from studio.cli import _check_output as check

    for source in inputs:
        check(output, source, None, force)


def _speech_client(key: str | None, settings: Any) -> Any:
    """Return the ElevenLabs Speech to Text / Forced Alignment client, or say why not."""
    from studio.core.engines import AuthError
    from studio.core.settings import resolve_base_url
    from studio.core.transcript.elevenlabs import ElevenLabsSpeech

    if not key:
        raise AuthError("No ElevenLabs API key is configured: set ELEVENLABS_API_KEY, "
                        "store one in Settings, or use --engine offline.")
    return ElevenLabsSpeech(key, resolve_base_url(settings))


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Run ``studio transcribe``."""
    from studio.cli import write_atomic
    from studio.core.settings import load_settings, resolve_api_key
    from studio.core.transcript.io import dumps
    from studio.core.transcript.media import probe

    _check_output(args.output, (args.media,), args.force)
    probe(args.media)  # a missing or silent file fails here, before any work
    settings = load_settings()
    engine = args.engine
    key, _ = resolve_api_key(settings)
    if engine is None:
        engine = "elevenlabs" if key else "offline"
    if engine == "elevenlabs":
        from studio.core.transcript.elevenlabs import TranscriptionOptions

        client = _speech_client(key, settings)
        options = TranscriptionOptions(
            language=args.language, diarize=bool(args.speakers) and not args.multichannel,
            num_speakers=args.speakers, multichannel=args.multichannel,
            tag_audio_events=not args.no_audio_events,
        )
        with client:
            transcript = client.transcribe(args.media, options)
    else:
        if args.language and args.language.lower() not in ("en", "eng", "en-us"):
            raise StudioError(f"{args.media}: the offline engine transcribes English only; "
                              "use --engine elevenlabs for other languages")
        if args.multichannel or (args.speakers or 1) > 1:
            raise StudioError(f"{args.media}: the offline engine cannot tell speakers apart; "
                              "use --engine elevenlabs for --speakers or --multichannel")
        from studio.core.transcript.align import transcribe_offline

        transcript = transcribe_offline(args.media)
    write_atomic(args.output, dumps(transcript) + "\n")
    words = sum(1 for _ in transcript.words())
    print(f"Wrote {args.output}: {len(transcript.segments)} segments, {words} words, "
          f"{len(transcript.speakers)} speakers ({engine})")
    return 0


def _lexicon_rules(paths: list[Path]) -> list[Any]:
    """Return the rules of the PLS files, in order (the first file's rules win)."""
    from studio.core.lexicon.pls import read_pls

    rules: list[Any] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StudioError(f"{path}: does not exist") from None
        except OSError as exc:
            raise StudioError(f"{path}: could not be read ({exc})") from None
        rules += read_pls(data, str(path)).rules
    return rules


def cmd_align(args: argparse.Namespace) -> int:
    """Run ``studio align``."""
    from studio.cli import write_atomic
    from studio.core.transcript.align import AlignmentError, align_text, alignment_json

    _check_output(args.output, (args.media, args.text), args.force)
    try:
        text = args.text.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StudioError(f"{args.text}: does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudioError(f"{args.text}: could not be read as UTF-8 text ({exc})") from None
    rules = _lexicon_rules(args.lexicon)
    if rules and args.engine == "elevenlabs":
        raise StudioError("--lexicon works with the offline aligner only (--engine offline)")
    if args.engine == "elevenlabs":
        from studio.core.settings import load_settings, resolve_api_key

        settings = load_settings()
        with _speech_client(resolve_api_key(settings)[0], settings) as client:
            words = client.align(args.media, text)
    else:
        try:
            words = align_text(args.media, text, rules=rules)
        except AlignmentError as exc:
            raise StudioError(f"{args.text}: {exc}") from None
    write_atomic(args.output, json.dumps(alignment_json(words), ensure_ascii=False, indent=1)
                 + "\n")
    missed = sum(1 for w in words if not w.aligned)
    note = f" ({missed} not found in the audio, timed by length)" if missed else ""
    print(f"Wrote {args.output}: {len(words)} words{note}")
    return 0


def cmd_subtitles(args: argparse.Namespace) -> int:
    """Run ``studio subtitles``."""
    import sys

    from studio.cli import write_atomic
    from studio.core.errors import EditError
    from studio.core.transcript.io import load_transcript
    from studio.core.transcript.subtitles import (
        SubtitleRules,
        build_cues,
        export_subtitles,
        track_problems,
    )

    _check_output(args.output, (args.transcript,), args.force)
    try:
        rules = SubtitleRules(max_chars_per_line=args.max_chars, max_lines=args.max_lines,
                              min_duration=args.min_duration, max_duration=args.max_duration)
    except EditError as exc:
        raise StudioError(f"{args.transcript}: {exc}") from None
    transcript = load_transcript(
        args.transcript, warn=lambda message: print(f"studio: {message}", file=sys.stderr))
    if not transcript.segments:
        raise StudioError(f"{args.transcript}: the transcript has no segments")
    track = build_cues(transcript, rules)
    write_atomic(args.output, export_subtitles(track, args.format))
    broken = [(i, p) for i, p in enumerate(track_problems(track)) if p]
    for i, problems in broken[:20]:
        cue = track.cues[i]
        print(f"cue {i + 1} ({cue.start:.2f}-{cue.end:.2f} s): "
              + ", ".join(sorted(problems)), file=sys.stderr)
    print(f"Wrote {args.output}: {len(track.cues)} cue{'s' if len(track.cues) != 1 else ''}"
          + (f", {len(broken)} breaking a rule" if broken else ", all within the rules"))
    return 0
