"""The ``studio`` command: with no subcommand it opens the window; subcommands script the core.

Exit status: 0 on success, 1 on a user error (one line on stderr), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from studio import __version__
from studio.core.errors import StudioError

SUBCOMMANDS = (
    "import", "info", "export-text", "sample", "render", "voices", "export",
    "transcribe", "align", "subtitles", "cast", "lexicon", "transcript-editor", "check",
)


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors exit 2 with a one-line reason (argparse default)."""


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="studio",
        description="Narrator Studio: narrate books with AI voices. With no command, open the "
        "studio window: 'studio [BOOK.studio|MANUSCRIPT] [--sample] [--screenshot PNG]'.",
    )
    parser.add_argument("--version", action="version", version=f"Narrator Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "import",
        help="turn a manuscript (TXT, Markdown, HTML, EPUB, DOCX, PDF, JSON) or an article "
        "URL into a project",
        description="Import a manuscript file or an article URL into a new .studio project and "
        "print the import report. Nothing is written if the import fails.",
    )
    p.add_argument("source", metavar="FILE|URL")
    p.add_argument("-o", "--output", required=True, metavar="BOOK.studio", type=Path)
    p.add_argument("--title", help="book title (default: from the manuscript)")
    p.add_argument("--author", help="author (default: from the manuscript)")
    p.add_argument(
        "--split-long",
        action="store_true",
        help="split paragraphs over 900 characters at sentence boundaries",
    )
    p.add_argument("--force", action="store_true", help="replace BOOK.studio if it exists")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser(
        "info",
        help="show a project's chapters, progress and cost estimate",
        description="Print a project's chapters, paragraph counts, conversion progress and the "
        "characters and credits still to generate.",
    )
    p.add_argument("project", metavar="BOOK.studio", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "export-text",
        help="write a project's text (no audio) as JSON that 'studio import' reads back",
        description="Write the project's text, voices and settings (not its audio) as JSON. "
        "'studio import' of that file gives back an identical project.",
    )
    p.add_argument("project", metavar="BOOK.studio", type=Path)
    p.add_argument("-o", "--output", required=True, metavar="BOOK.json", type=Path)
    p.add_argument("--force", action="store_true", help="replace the output if it exists")

    p = sub.add_parser(
        "sample",
        help="create the bundled sample book as a project",
        description="Create (or re-create) the bundled public-domain sample book as a project "
        "and print its path.",
    )
    p.add_argument("-o", "--output", metavar="BOOK.studio", type=Path)

    from studio.cli_render import add_parsers

    add_parsers(sub)

    from studio.cli_export import add_parser as add_export_parser

    add_export_parser(sub)

    from studio.cli_transcript import add_parsers as add_transcript_parsers

    add_transcript_parsers(sub)

    from studio.cli_cast import add_parsers as add_cast_parsers

    add_cast_parsers(sub)

    from studio.cli_check import add_parser as add_check_parser

    add_check_parser(sub)

    p = sub.add_parser(
        "transcript-editor",
        help="open the transcript editor window on a media file and/or a transcript",
        description="Open the transcript editor: MEDIA is an audio or video file, TRANSCRIPT "
        "a JSON, SRT or VTT transcript (a lone transcript argument is recognised by its suffix).",
    )
    p.add_argument("media", nargs="?", type=Path, metavar="MEDIA")
    p.add_argument("transcript", nargs="?", type=Path, metavar="TRANSCRIPT")
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="studio", description="Open the Narrator Studio window.")
    parser.add_argument("--version", action="version", version=f"Narrator Studio {__version__}")
    parser.add_argument(
        "file", nargs="?", type=Path, help="a .studio project (or a manuscript to import)"
    )
    parser.add_argument("--sample", action="store_true", help="open the bundled sample book")
    parser.add_argument(
        "--screenshot", type=Path, metavar="PNG", help="save a screenshot of the window and quit"
    )
    return parser


def _cmd_import(args: argparse.Namespace) -> int:
    from studio.core.importing import import_source
    from studio.core.store import ProjectStore

    out: Path = args.output
    _check_output(out, args.source, ".studio", args.force)
    project, report = import_source(
        args.source, title=args.title, author=args.author, split_long=args.split_long
    )
    ProjectStore.create(out, project, overwrite=args.force).close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    else:
        print(report.to_text())
        print(f"Wrote {out}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from studio.core.model import project_info
    from studio.core.store import ProjectStore

    with ProjectStore.open(args.project, read_only=True) as store:
        info = project_info(store.load())
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    print(f"{info['title']}" + (f" by {info['author']}" if info["author"] else ""))
    print(
        f"{len(info['chapters'])} chapters, {info['paragraphs']} paragraphs, "
        f"{info['words']} words, {info['characters']} characters; model {info['model']}"
    )
    width = max((len(c["title"]) for c in info["chapters"]), default=10)
    for i, c in enumerate(info["chapters"], 1):
        done = f"{c['converted']}/{c['paragraphs']} converted"
        stale = f", {c['stale']} stale" if c["stale"] else ""
        print(f"  {i:>3}. {c['title']:<{width}}  {c['characters']:>8} chars  {done}{stale}")
    print(
        f"To generate: {info['characters_to_generate']} characters, about "
        f"{info['estimated_credits']} ElevenLabs credits (offline generation is free)"
    )
    return 0


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves no partial file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StudioError(f"{path}: could not write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"{path}: could not write ({exc.strerror or exc})") from None


def _check_output(output: Path, source: Path | str, suffix: str | None, force: bool) -> None:
    """Refuse an output that exists (without --force), is the input, or has a wrong suffix."""
    if suffix and output.suffix.lower() != suffix:
        raise StudioError(f"{output}: the output file name must end in {suffix}")
    if not output.exists():
        return
    if not isinstance(source, str) or not source.startswith(("http://", "https://")):
        try:
            if Path(source).exists() and output.samefile(source):
                raise StudioError(f"{output}: is the input file; choose another output name")
        except OSError:
            pass
    if not force:
        raise StudioError(f"{output}: already exists (use --force to replace it)")


def _cmd_export_text(args: argparse.Namespace) -> int:
    from studio.core.importing.json_text import dumps
    from studio.core.store import ProjectStore

    _check_output(args.output, args.project, None, args.force)
    with ProjectStore.open(args.project, read_only=True) as store:
        text = dumps(store.load())
    write_atomic(args.output, text)
    print(f"Wrote {args.output}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from studio.core.sample import create_sample_project

    path = create_sample_project(args.output, overwrite=True)
    print(path)
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from studio.cli_render import cmd_render

    return cmd_render(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from studio.cli_export import cmd_export

    return cmd_export(args)


def _cmd_voices(args: argparse.Namespace) -> int:
    from studio.cli_render import cmd_voices

    return cmd_voices(args)


def _cmd_transcript(args: argparse.Namespace) -> int:
    from studio import cli_transcript

    handler = getattr(cli_transcript, f"cmd_{args.command}")
    status: int = handler(args)
    return status


def _cmd_cast(args: argparse.Namespace) -> int:
    from studio import cli_cast

    status: int = (cli_cast.cmd_cast if args.command == "cast" else cli_cast.cmd_lexicon)(args)
    return status


def _cmd_check(args: argparse.Namespace) -> int:
    from studio.cli_check import cmd_check

    return cmd_check(args)


def _cmd_transcript_editor(args: argparse.Namespace) -> int:
    from studio.ui.transcript.window import run_standalone

    media, transcript = args.media, args.transcript
    if transcript is None and media is not None and \
            media.suffix.lower() in (".json", ".srt", ".vtt"):
        media, transcript = None, media
    return run_standalone(media, transcript)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``studio`` command; return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    wants_help = any(a in ("-h", "--help") for a in argv)
    if first not in SUBCOMMANDS and not (first is None and wants_help):
        gui_args = _gui_parser().parse_args(argv)
        from studio.app import main as gui_main

        return gui_main(gui_args)
    args = _build_parser().parse_args(argv)
    if args.command is None:
        _build_parser().print_help()
        return 0
    handlers = {
        "import": _cmd_import,
        "info": _cmd_info,
        "export-text": _cmd_export_text,
        "sample": _cmd_sample,
        "render": _cmd_render,
        "voices": _cmd_voices,
        "export": _cmd_export,
        "transcribe": _cmd_transcript,
        "align": _cmd_transcript,
        "subtitles": _cmd_transcript,
        "cast": _cmd_cast,
        "lexicon": _cmd_cast,
        "transcript-editor": _cmd_transcript_editor,
        "check": _cmd_check,
    }
    # Library warnings (pypdf's "EOF marker not found", our own logged tracebacks) are for a
    # log file, not the terminal: the user gets the one-line message. STUDIO_DEBUG=1 shows all.
    logging.basicConfig(
        level=logging.DEBUG if os.environ.get("STUDIO_DEBUG") else logging.CRITICAL,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        status = handlers[args.command](args)
        sys.stdout.flush()  # surface a closed pipe here, not at interpreter exit
        return status
    except StudioError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``studio info book.studio | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
