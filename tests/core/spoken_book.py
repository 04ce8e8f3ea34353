"""A small book narrated for real by the offline engine (espeak-ng), for timed-text tests."""

from __future__ import annotations

import dataclasses

from studio.core.model import Project, Voice, VoiceId, add_chapter, add_take, add_voice

CHAPTERS = {
    "The Harbour": [
        "The boats came home at dusk. Gulls followed them across the grey water.",
        "Anna counted the lanterns on the pier. There were seven, and one was broken.",
    ],
    "The Lighthouse": [
        "Nobody had climbed the lighthouse for years. The door was swollen shut.",
        'She pushed it open with her shoulder. <break time="1.0s" /> Dust rose like smoke.',
    ],
}


def spoken_book(chapters: dict[str, list[str]] | None = None,
                spoken: dict[str, str] | None = None) -> Project:
    """Return a project whose paragraphs have real offline takes.

    ``spoken`` maps a paragraph's text to the text actually synthesised for it (a take
    that does not say what the script says), for narration-check tests.
    """
    from studio.core.engines.offline import OfflineEngine
    from studio.core.generation import make_take, plan_render

    project = Project(title="The Harbour Book", author="A. Writer", language="en")
    add_voice(project, Voice(VoiceId("v"), "Narrator", engine="offline",
                             engine_voice_id="en-us"))
    for title, texts in (chapters or CHAPTERS).items():
        add_chapter(project, title, texts)
    engine = OfflineEngine()
    for job in plan_render(project, engine="offline").jobs:
        request = job.request
        if spoken and request.text in spoken:
            request = dataclasses.replace(request, text=spoken[request.text])
        take = make_take([(job, engine.synthesize(request))], "offline")
        add_take(project, dataclasses.replace(take, text=job.request.text) if spoken
                 and job.request.text in spoken else take)
    return project
