"""``studio cast`` and ``studio lexicon``: characters and their lines; pronunciation rules.

``studio lexicon upload`` sends the project's dictionaries to ElevenLabs (key from
``ELEVENLABS_API_KEY``, the keyring or the settings, as ``studio render``) and records the
remote id and version id of each in the project, so renders send them as locators.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from studio.core.errors import StudioError
from studio.core.model import Project
from studio.core.store import ProjectStore


def _say(text: str) -> None:
    sys.stdout.write(f"{text}\n")


def add_parsers(sub: Any) -> None:
    """Add the ``cast`` and ``lexicon`` subcommands."""
    p = sub.add_parser(
        "cast", help="list the characters who speak and their lines",
        description="Find who speaks each quoted line (offline) and print every character "
        "with their line count and mean confidence, then each line.")
    p.add_argument("project", metavar="BOOK.studio", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--lines", action="store_true", help="also print every quoted line")

    p = sub.add_parser("lexicon", help="import, export, scan or upload pronunciation rules",
                       description="Manage the project's pronunciation dictionaries.")
    lex = p.add_subparsers(dest="lexicon_command", metavar="ACTION", required=True)
    q = lex.add_parser("import", help="add a PLS file as a dictionary of the project")
    q.add_argument("file", metavar="FILE.pls", type=Path)
    q.add_argument("project", metavar="BOOK.studio", type=Path)
    q.add_argument("--name", help="the dictionary's name (default: the file's name)")
    q = lex.add_parser("export", help="write the project's rules as a PLS file",
                       description="Write the project's rules as PLS. With -o a folder, one "
                       "FILE.pls per dictionary (named after it); with -o a file, the chosen "
                       "dictionary, or all of them in order.")
    q.add_argument("project", metavar="BOOK.studio", type=Path)
    q.add_argument("-o", "--output", required=True, metavar="FILE.pls|FOLDER", type=Path)
    q.add_argument("--dictionary", metavar="NAME", action="append", default=[],
                   help="export only this dictionary (repeatable; default: all)")
    q.add_argument("--force", action="store_true", help="replace an existing file")
    q = lex.add_parser("scan", help="list words no lexicon knows, with a spoken form")
    q.add_argument("project", metavar="BOOK.studio", type=Path)
    q.add_argument("--json", action="store_true", help="print JSON instead of text")
    q = lex.add_parser(
        "upload", help="upload the dictionaries to ElevenLabs (only those that changed)",
        description="Upload the project's pronunciation dictionaries to ElevenLabs and record "
        "their ids and versions in the project. A dictionary whose rules did not change since "
        "its last upload is not sent again.")
    q.add_argument("project", metavar="BOOK.studio", type=Path)
    q.add_argument("--engine", choices=["elevenlabs"], default="elevenlabs",
                   help="the engine to upload to (only elevenlabs keeps dictionaries)")
    q.add_argument("--force", action="store_true",
                   help="update every dictionary, changed or not")
    q.add_argument("--json", action="store_true", help="print JSON instead of text")


def _load(path: Path) -> Project:
    with ProjectStore.open(path, read_only=True) as store:
        return store.load()


def cmd_cast(args: argparse.Namespace) -> int:
    """Print the cast sheet."""
    from studio.core.casting.detect import detect

    project = _load(args.project)
    sheet = detect(project)
    titles = {c.id: c.title for c in project.chapters}
    if args.json:
        _say(json.dumps({
            "characters": [
                {"id": c.id, "name": c.name, "gender": c.gender, "lines": c.lines,
                 "words": c.words, "confidence": round(c.confidence, 2)}
                for c in sheet.characters],
            "lines": [
                {"chapter": titles[ln.chapter_id], "paragraph": ln.block_id, "start": ln.start,
                 "end": ln.end, "text": ln.text, "speaker": ln.speaker,
                 "confidence": ln.confidence, "method": ln.method}
                for ln in sheet.lines],
        }, ensure_ascii=False, indent=1))
        return 0
    attributed = sum(1 for ln in sheet.lines if ln.speaker)
    _say(f"{len(sheet.lines)} quoted lines, {attributed} attributed, "
          f"{len(sheet.characters)} characters")
    for c in sheet.characters:
        _say(f"  {c.name:<28} {c.gender or '?':<7} {c.lines:>5} lines  "
              f"{c.words:>6} words  confidence {c.confidence:.2f}")
    if args.lines:
        names = {c.id: c.name for c in sheet.characters}
        for ln in sheet.lines:
            who = names.get(ln.speaker or "", "(narrator)")
            text = ln.text if len(ln.text) <= 70 else ln.text[:67] + "..."
            _say(f"{titles[ln.chapter_id]}: {who} [{ln.confidence:.2f} {ln.method}] {text}")
    return 0


def cmd_lexicon(args: argparse.Namespace) -> int:
    """Run ``studio lexicon import|export|scan|upload``."""
    from studio.core.lexicon import edits

    if args.lexicon_command == "upload":
        return _upload(args)

    if args.lexicon_command == "import":
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            raise StudioError(f"{args.file}: cannot be read ({exc.strerror or exc})") from None
        with ProjectStore.open(args.project) as store:
            project = store.load()
            changes = edits.import_pls(project, data, args.name or args.file.stem,
                                       str(args.file))
            store.save(project, changes)
        added = project.dictionaries[-1].rules or ()
        _say(f"{args.file}: {len(added)} rules added; {len(changes.blocks)} paragraphs affected")
        for rule in added:
            for note in edits.rule_notes(rule):
                _say(f"warning: {rule.grapheme}: {note}")
        return 0
    if args.lexicon_command == "export":
        return _export(args)
    from studio.core.lexicon.scan import scan

    project = _load(args.project)
    try:
        from studio.core.engines.offline import text_to_phonemes

        text_to_phonemes("test")
        phonemize: Any = text_to_phonemes
    except StudioError:
        phonemize = None  # no offline engine here: no phoneme suggestions
    found = scan(project, phonemize=phonemize)
    titles = [c.title for c in project.chapters]
    if args.json:
        _say(json.dumps([
            {"text": w.text, "kind": w.kind, "count": w.count, "suggestion": w.suggestion,
             "rule": w.rule_kind,
             "places": [{"chapter": titles[c], "paragraph": p + 1} for c, p in w.places]}
            for w in found], ensure_ascii=False, indent=1))
        return 0
    _say(f"{len(found)} words no lexicon knows")
    for w in found:
        where = ", ".join(f"{titles[c]} ¶{p + 1}" for c, p in w.places[:3])
        more = f" (+{len(w.places) - 3} more)" if len(w.places) > 3 else ""
        _say(f"  {w.text:<20} {w.kind:<9} ×{w.count:<4} -> {w.suggestion or '?'}  "
              f"[{where}{more}]")
    return 0


def _export(args: argparse.Namespace) -> int:
    """Run ``studio lexicon export``: one file, or one file per dictionary into a folder."""
    from studio.core.lexicon.pls import write_pls

    project = _load(args.project)
    chosen = list(project.dictionaries)
    if args.dictionary:
        by_name = {d.name: d for d in project.dictionaries}
        missing = [n for n in args.dictionary if n not in by_name]
        if missing:
            names = ", ".join(by_name) or "none"
            raise StudioError(f"{args.project}: no dictionary named '{missing[0]}' "
                              f"(it has: {names})")
        chosen = [by_name[n] for n in args.dictionary]
    if args.output.is_dir():
        files = [(args.output / f"{_file_name(d.name)}.pls", [d]) for d in chosen]
    else:
        files = [(args.output, chosen)]
    for path, _ in files:
        if path.exists() and not args.force:
            raise StudioError(f"{path}: already exists (use --force to replace it)")
    for path, refs in files:
        rules = [r for d in refs for r in d.rules or ()]
        language = refs[0].language if refs else "en-US"
        try:
            path.write_bytes(write_pls(rules, language))
        except OSError as exc:
            raise StudioError(f"{path}: could not write ({exc.strerror or exc})") from None
        _say(f"{path}: {len(rules)} rules written")
    return 0


def _file_name(name: str) -> str:
    """Return a dictionary name usable as a file name."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "dictionary"


def _upload(args: argparse.Namespace) -> int:
    """Run ``studio lexicon upload``."""
    from studio.core.engines import AuthError
    from studio.core.engines.elevenlabs import ElevenLabsEngine
    from studio.core.lexicon.eleven import upload_dictionaries
    from studio.core.settings import load_settings, resolve_api_key, resolve_base_url

    settings = load_settings()
    key, _ = resolve_api_key(settings)
    if not key:
        raise AuthError("No ElevenLabs API key is configured: set ELEVENLABS_API_KEY or store "
                        "one in Settings.")
    with ProjectStore.open(args.project) as store:
        project = store.load()
        if not project.dictionaries:
            raise StudioError(f"{args.project}: has no pronunciation dictionaries (add one with "
                              "studio lexicon import)")
        engine = ElevenLabsEngine(key, resolve_base_url(settings))
        try:
            results = upload_dictionaries(project, engine, force=args.force,
                                          on_change=lambda ch: store.save(project, ch))
        finally:
            engine.close()
    if args.json:
        _say(json.dumps([
            {"name": r.name, "action": r.action, "rules": r.rules,
             "dictionary_id": r.engine_dictionary_id, "version_id": r.engine_version_id}
            for r in results], ensure_ascii=False, indent=1))
        return 0
    for r in results:
        where = f" (id {r.engine_dictionary_id}, version {r.engine_version_id})" if (
            r.engine_dictionary_id) else ""
        what = {"created": "uploaded", "updated": "updated to a new version",
                "unchanged": "unchanged, not sent", "skipped": "skipped: no local rules"}
        _say(f"{r.name}: {r.rules} rules {what[r.action]}{where}")
    if len([r for r in results if r.engine_dictionary_id]) > 3:
        _say("note: a request takes at most 3 dictionaries; renders send the first 3")
    return 0
