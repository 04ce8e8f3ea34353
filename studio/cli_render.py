"""``studio render`` and ``studio voices``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from studio.core import model as m
from studio.core.catalog import ModelInfo, model_info
from studio.core.engines import Engine, EngineError, EngineUnavailable
from studio.core.engines.select import PLAN_CONCURRENCY, build_engine, choose_engine
from studio.core.errors import CancelToken, StudioError
from studio.core.generation import Plan, plan_render
from studio.core.model import ChapterId, Project, VoiceId
from studio.core.scheduler import Event, JobFailed, JobRetrying, Scheduler, TakeReady
from studio.core.settings import load_settings
from studio.core.store import ProjectStore


def chapter_ranges(text: str) -> list[int]:
    """Parse "1,3-5" into [1, 3, 4, 5] (1-based chapter numbers)."""
    numbers: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if a > b:
                    raise ValueError
                numbers.extend(range(a, b + 1))
            elif part:
                numbers.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a chapter list like 1,3-5"
        ) from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a chapter list like 1,3-5")
    return numbers


def positive_int(text: str) -> int:
    """Parse a command-line whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return value


def add_parsers(sub: Any) -> None:
    """Add the ``render`` and ``voices`` subcommands."""
    p = sub.add_parser(
        "render",
        help="narrate a project's paragraphs (resumable; only what is not yet rendered)",
        description="Generate narration for the paragraphs that have none or whose text, voice "
        "or settings changed. Finished paragraphs are saved as they arrive, so a stopped render "
        "continues where it stopped. Without --engine: ElevenLabs when an API key is configured, "
        "otherwise the offline engine.",
    )
    p.add_argument("project", metavar="BOOK.studio")
    p.add_argument("--chapters", type=chapter_ranges, metavar="1,3-5",
                   help="chapters to render (default: all)")
    p.add_argument("--engine", choices=("offline", "elevenlabs"))
    p.add_argument("--model", metavar="ID", help="set the project's model (ElevenLabs)")
    p.add_argument("--voice", metavar="ID",
                   help="set the engine voice of the project's default voice (see 'studio voices')")
    p.add_argument("--concurrency", type=positive_int, metavar="N",
                   help="requests in flight (default: from your plan)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the characters and credits it would spend; send nothing")
    p.add_argument("--json", action="store_true", help="print one JSON event per line")

    p = sub.add_parser(
        "voices",
        help="list the voices of an engine",
        description="List the voices an engine offers, with the ids 'render --voice' takes.",
    )
    p.add_argument("--engine", choices=("offline", "elevenlabs"))
    p.add_argument("--search", metavar="TEXT", help="only voices matching TEXT")
    p.add_argument("--json", action="store_true", help="print JSON")


# ---------------------------------------------------------------------------------------------


def _say(args: argparse.Namespace, text: str) -> None:
    """Tell the user something (stderr, so --json output stays clean)."""
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)


def _emit(args: argparse.Namespace, event: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(event, ensure_ascii=False), flush=True)


def _apply_choices(
    args: argparse.Namespace, project: Project, engine: str
) -> m.Changes:
    """Apply --model and --voice to the project (they are project choices, saved)."""
    changes = m.Changes()
    if args.model and args.model != project.model_id:
        changes |= m.set_project_meta(project, model_id=args.model)
    voice = project.voices.get(project.default_voice_id) if project.default_voice_id else None
    if args.voice:
        if voice is None:
            voice = m.Voice(VoiceId(m.new_id()), "Narrator", engine=engine,
                            engine_voice_id=args.voice)
            changes |= m.add_voice(project, voice)
        elif voice.engine != engine or voice.engine_voice_id != args.voice:
            changes |= m.update_voice(project, voice.id, engine=engine,
                                      engine_voice_id=args.voice)
    elif voice is not None and voice.engine != engine:
        hint = "en-us" if engine == "offline" else "a voice id from 'studio voices'"
        kind = "an offline" if voice.engine == "offline" else "an ElevenLabs"
        raise StudioError(
            f"{args.project}: voice '{voice.alias}' is {kind} voice; to render with "
            f"{engine}, pass --voice ({hint})"
        )
    return changes


def _validate(args: argparse.Namespace, engine: Engine, name: str, plan: Plan,
              project: Project) -> None:
    """Check the model and every voice the plan uses exist, before anything is spent."""
    if name == "elevenlabs" and args.model:
        known = [mo.model_id for mo in engine.models()]
        if known and args.model not in known:
            raise StudioError(
                f"unknown model '{args.model}' (available: {', '.join(sorted(known))})"
            )
    wanted = {j.request.voice_id for j in plan.jobs}
    wanted |= {line.voice_id for j in plan.jobs for line in j.dialogue}
    if not wanted:
        return
    if name == "offline":
        available = {v.voice_id.lower() for v in engine.voices()}
        missing = sorted(v for v in wanted if v.lower() not in available)
    else:
        from studio.core.engines import VoiceNotFound
        from studio.core.engines.elevenlabs import ElevenLabsEngine

        missing = []
        assert isinstance(engine, ElevenLabsEngine)
        for voice_id in sorted(wanted):
            try:
                engine.voice(voice_id)
            except VoiceNotFound:
                missing.append(voice_id)
    if missing:
        aliases = {v.engine_voice_id: v.alias for v in project.voices.values()}
        names = ", ".join(f"'{aliases.get(v, v)}' ({v})" for v in missing)
        raise StudioError(
            f"{args.project}: voice {names} was not found for the {name} engine; choose "
            "another with --voice (see 'studio voices')"
        )


def _model_for(engine: Engine | None, name: str, project: Project) -> ModelInfo:
    if name == "offline":
        return model_info("offline-espeak")
    info = model_info(project.model_id)
    if engine is None:
        return info
    try:
        for model in engine.models():
            if model.model_id == project.model_id:
                # The catalogue may plan smaller chunks than the server accepts (eleven_v3).
                limit = min(model.max_characters, info.max_characters)
                return ModelInfo(model.model_id, model.name, limit,
                                 model.supports_stitching, model.cost_multiplier)
    except EngineUnavailable:
        raise  # no point in trying the render
    except EngineError:
        pass  # the catalogue's figures will do
    return info


def _concurrency(
    args: argparse.Namespace, engine: Engine, name: str, setting: int, model_id: str
) -> int:
    if name == "offline":
        return 1  # espeak-ng is one process-wide instance: calls are serialised anyway
    if args.concurrency:
        return max(1, args.concurrency)
    if setting:
        return setting
    try:
        tier = engine.subscription().tier.lower()  # type: ignore[attr-defined]
    except (EngineError, AttributeError):
        return 2
    limit = PLAN_CONCURRENCY.get(tier, 2)
    # Flash and Turbo have twice the Multilingual limit on every plan (spec §4.4).
    return limit * 2 if ("flash" in model_id or "turbo" in model_id) else limit


def _describe(plan: Plan) -> dict[str, Any]:
    return {
        "engine": plan.engine,
        "model": plan.model_id,
        "paragraphs": plan.paragraphs,
        "requests": len(plan.jobs),
        "dialogue_requests": plan.dialogue_requests,
        "chains": len(plan.chains),
        "characters": plan.characters,
        "credits": plan.credits,
        "already_rendered": plan.skipped,
        "reused_takes": len(plan.reused),
        "problems": list(plan.problems),
        "warnings": list(plan.warnings),
    }


class _ProgressLine:
    """A one-line progress bar with ETA on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def update(self, fraction: float, done: int, total: int, eta: float | None) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * fraction)
        eta_text = f"ETA {int(eta // 60)}:{int(eta % 60):02d}" if eta is not None else "ETA --:--"
        sys.stdout.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%} "
            f"{done}/{total} paragraphs  {eta_text} "
        )
        sys.stdout.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stdout.write("\n")
            sys.stdout.flush()


def _voice_categories(engine: Engine | None, info: Any) -> dict[str, str] | None:
    """Return the engine's voice categories for v3's warnings (None: not asked, or failed)."""
    from studio.core import v3

    if engine is None or not v3.is_v3(info.model_id):
        return None
    try:
        return {v.voice_id: v.category for v in engine.voices()}
    except StudioError:
        return None


def cmd_render(args: argparse.Namespace) -> int:
    """Render a project."""
    settings = load_settings()
    name, why = choose_engine(args.engine, settings)
    _say(args, f"Engine: {why}")
    with ProjectStore.open(args.project, read_only=args.dry_run) as store:
        project = store.load()
        # Applied in memory now; saved only once validated, and never by a dry run.
        changes = _apply_choices(args, project, name)
        chapter_ids: list[ChapterId] | None = None
        if args.chapters:
            too_big = [n for n in args.chapters if n > len(project.chapters)]
            if too_big:
                raise StudioError(
                    f"{args.project}: has {len(project.chapters)} chapters; there is no "
                    f"chapter {too_big[0]}"
                )
            chapter_ids = [project.chapters[n - 1].id for n in args.chapters]
        engine: Engine | None = None if args.dry_run else build_engine(name, settings,
                                                                       for_render=True)
        info = _model_for(engine, name, project)
        fmt = "wav_22050" if name == "offline" else settings.output_format
        plan = plan_render(project, engine=name, chapters=chapter_ids, model=info,
                           output_format=fmt, voice_categories=_voice_categories(engine, info))
        if engine is not None:
            names = getattr(engine, "dictionary_names", None)
            if isinstance(names, dict):  # so a stale dictionary locator is named in errors
                from studio.core.lexicon.eleven import locator_names

                names.update(locator_names(project))
            _validate(args, engine, name, plan, project)
            if not changes.empty:
                store.save(project, changes)
            for block_id, take_id in plan.reused:
                store.save(project, m.set_current_take(project, block_id, take_id))
        described = _describe(plan)
        _emit(args, {"event": "plan", **described})
        if not args.json:
            cost = (f"{plan.characters:,} characters, about {plan.credits:,} credits"
                    if name == "elevenlabs" else f"{plan.characters:,} characters, free")
            print(f"{plan.paragraphs} paragraphs to render in {len(plan.chains)} chains "
                  f"({cost}); {plan.skipped} already rendered"
                  + (f", {len(plan.reused)} restored from history" if plan.reused else ""))
            if plan.dialogue_requests:
                print(f"  dialogue: {plan.dialogue_paragraphs} paragraphs of several voices "
                      f"as {plan.dialogue_requests} Text to Dialogue requests")
            for problem in plan.problems:
                print(f"  skipped: {problem}")
            for warning in plan.warnings:
                print(f"  warning: {warning}")
        if args.dry_run or not plan.jobs:
            return 0
        assert engine is not None
        try:
            return _run(args, store, project, engine, name, plan, settings.concurrency)
        finally:
            close = getattr(engine, "close", None)
            if close is not None:
                close()


def _run(
    args: argparse.Namespace,
    store: ProjectStore,
    project: Project,
    engine: Engine,
    name: str,
    plan: Plan,
    concurrency_setting: int,
) -> int:
    cancel = CancelToken()
    concurrency = _concurrency(args, engine, name, concurrency_setting, plan.model_id)
    bar = _ProgressLine(sys.stdout.isatty() and not args.json)
    titles = {c.id: c.title for c in project.chapters}
    counted = {"paragraphs": 0}

    def on_event(event: Event) -> None:
        if isinstance(event, TakeReady):
            store.save(project, m.add_take(project, event.take))
            chapter, index = project.locate(event.block_id)
            p = event.progress
            _emit(args, {
                "event": "take", "chapter": titles[chapter.id], "paragraph": index + 1,
                "block_id": event.block_id, "characters": len(event.take.text),
                "cost": event.take.cost, "duration": round(event.take.duration, 3),
                "request_id": event.take.request_id, "progress": round(p.fraction, 4),
                "eta": round(p.eta, 1) if p.eta is not None else None,
            })
            counted["paragraphs"] += 1
            if bar.enabled:
                bar.update(p.fraction, counted["paragraphs"], plan.paragraphs, p.eta)
            elif not args.json:
                print(f"{p.fraction:6.1%}  {titles[chapter.id]} ¶{index + 1}  "
                      f"{event.take.duration:.1f} s", flush=True)
        elif isinstance(event, JobFailed):
            chapter, index = project.locate(event.block_id)
            _emit(args, {"event": "failed", "chapter": titles[chapter.id],
                         "paragraph": index + 1, "block_id": event.block_id,
                         "error": str(event.error)})
            if not args.json:
                bar.close()
                print(f"failed: {titles[chapter.id]} ¶{index + 1}: {event.error}",
                      file=sys.stderr)
        elif isinstance(event, JobRetrying):
            _emit(args, {"event": "retry", "job": event.job_id, "reason": event.reason,
                         "delay": round(event.delay, 2)})

    scheduler = Scheduler(engine, plan, concurrency=concurrency, cancel=cancel, on_event=on_event)
    previous = _install_interrupt(cancel)
    started = time.monotonic()
    try:
        summary = scheduler.run()
    finally:
        _restore_interrupt(previous)
        bar.close()
    done = {
        "event": "done", "takes": summary.takes, "failed": len(summary.failed),
        "characters": summary.characters, "cost": summary.cost,
        "seconds": round(time.monotonic() - started, 2), "cancelled": summary.cancelled,
        "max_in_flight": summary.max_in_flight, "concurrency": summary.limit,
    }
    if summary.fatal is not None:
        _emit(args, {"event": "error", "message": str(summary.fatal)})
    _emit(args, done)
    if summary.fatal is not None:
        raise StudioError(str(summary.fatal))
    if not args.json:
        print(f"Rendered {summary.takes} paragraphs in {done['seconds']} s "
              f"({summary.cost:,} credits charged)"
              + (f"; {len(summary.failed)} failed" if summary.failed else ""))
    if summary.cancelled:
        print("studio: render stopped; run it again to continue", file=sys.stderr)
        return 130
    return 1 if summary.failed else 0


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _install_interrupt(cancel: CancelToken) -> dict[int, _Handler]:
    """Make Ctrl+C stop the render cleanly and a second Ctrl+C (or SIGTERM) abort it.

    A stop sends nothing new but lets the responses already under way (and so already paid
    for) arrive and be saved; an abort drops them too.
    """

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if cancel.cancelled:
            cancel.abort()
            print("\nstudio: abandoning the requests in flight", file=sys.stderr, flush=True)
        else:
            cancel.cancel()
            print("\nstudio: stopping after the requests in flight (they are paid for); "
                  "press Ctrl+C again to abandon them", file=sys.stderr, flush=True)

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        cancel.abort()

    return {
        signal.SIGINT: signal.signal(signal.SIGINT, on_interrupt),
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_terminate),
    }


def _restore_interrupt(previous: dict[int, _Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def cmd_voices(args: argparse.Namespace) -> int:
    """List an engine's voices."""
    settings = load_settings()
    name, why = choose_engine(args.engine, settings)
    engine = build_engine(name, settings)
    voices = engine.voices()
    if args.search:
        needle = args.search.lower()
        voices = [v for v in voices if needle in " ".join(
            [v.voice_id, v.name, v.category, v.description, *v.labels.values()]).lower()]
    if args.json:
        print(json.dumps([
            {"voice_id": v.voice_id, "name": v.name, "category": v.category,
             "labels": v.labels, "description": v.description}
            for v in voices
        ], ensure_ascii=False, indent=1))
        return 0
    print(f"Voices of {why}:")
    width = max((len(v.voice_id) for v in voices), default=10)
    for v in voices:
        extra = ", ".join(f"{k} {val}" for k, val in v.labels.items() if k in (
            "gender", "accent", "age", "language"))
        print(f"  {v.voice_id:<{width}}  {v.name}" + (f"  ({extra})" if extra else ""))
    return 0
