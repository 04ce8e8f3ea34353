"""Render throughput against a fake server, and the offline engine's speed.

For concurrency C in {1, 5, 15}, a 30-chapter book is rendered against the local fake
ElevenLabs server with a per-request service time of ``base + per_char × characters``
(default 50 ms + 1 ms per 20 characters) and a server limit of C requests in flight.
Prints the wall time against the ideal ``max(total service time / C, longest chain)``
measured from the same plan; aim: at least 0.9 of ideal at C = 5.
Then prints the offline engine's seconds of audio per CPU second.

    .venv/bin/python benchmarks/render_bench.py [--paragraphs 6] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.core import model as m  # noqa: E402
from studio.core.engines import SpeechRequest  # noqa: E402
from studio.core.engines.elevenlabs import ElevenLabsEngine  # noqa: E402
from studio.core.generation import Plan, plan_render  # noqa: E402
from studio.core.model import ChapterId, Project, VoiceId  # noqa: E402
from studio.core.scheduler import Scheduler, TakeReady  # noqa: E402
from studio.core.store import ProjectStore  # noqa: E402

BASE_S = 0.050
PER_CHAR_S = 0.001 / 20


def make_book(chapters: int, paragraphs: int) -> Project:
    """Novel-like paragraphs of 250-750 characters, one narrator."""
    project = Project(title="Bench")
    m.add_voice(project, m.Voice(VoiceId("n"), "Narrator", engine="elevenlabs",
                                 engine_voice_id="21m00Tcm4TlvDq8ikWAM"))
    sentence = "The river ran on in the dark, past the mills and the sleeping town. "
    for c in range(chapters):
        texts = [
            f"Chapter {c + 1}, paragraph {p + 1}. " + sentence * (3 + (c * 7 + p * 3) % 8)
            for p in range(paragraphs)
        ]
        m.add_chapter(project, f"Chapter {c + 1}", texts, chapter_id=ChapterId(f"c{c}"))
    return project


SERVER = """
import sys, time
from tests.fakes.fake_elevenlabs import FakeElevenLabs
fake = FakeElevenLabs(max_concurrency=int(sys.argv[1]), latency_base_s=float(sys.argv[2]),
                      latency_per_char_s=float(sys.argv[3]), ms_per_char=1.0).start()
print(fake.base_url, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
import json
rejected = sum(1 for r in fake.requests if r.status == 429)
served = {}  # text -> seconds from request received to response fully sent
for r in fake.requests:
    if r.status == 200 and r.ended is not None and r.json and "text" in r.json:
        served[r.json["text"]] = r.ended - r.started
print(json.dumps({"rejected": rejected, "peak": fake.max_in_flight_seen, "served": served}),
      flush=True)
fake.stop()
"""


class ServerProcess:
    """The fake server in its own process, as the real API is: no GIL shared with us."""

    def __init__(self, concurrency: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(concurrency), str(BASE_S), str(PER_CHAR_S)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def finish(self) -> tuple[int, int, dict[str, float]]:
        """Stop the server; return (429 answers, most in flight, service time by text)."""
        out, _ = self.proc.communicate("", timeout=60)
        data = json.loads(out.strip().splitlines()[-1])
        return int(data["rejected"]), int(data["peak"]), data["served"]


def service_time(text: str) -> float:
    return BASE_S + PER_CHAR_S * len(text)


def ideal(plan: Plan, times: dict[str, float], concurrency: int) -> float:
    """Return max(total service time / C, longest chain) for per-request times ``times``."""
    total = sum(times[j.request.text] for j in plan.jobs)
    longest = max(sum(times[j.request.text] for j in c.jobs) for c in plan.chains)
    return max(total / concurrency, longest)


def bench(concurrency: int, paragraphs: int) -> tuple[float, float, float, int]:
    """Return (wall, ideal from the latency model, ideal from measured service, 429s)."""
    project = make_book(30, paragraphs)
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    model = {j.request.text: service_time(j.request.text) for j in plan.jobs}
    server = ServerProcess(concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        store = ProjectStore.create(Path(tmp) / "b.studio", project)
        engine = ElevenLabsEngine("test-key", server.base_url, retry_concurrency=False)

        def save(event: object) -> None:
            if isinstance(event, TakeReady):
                store.save(project, m.add_take(project, event.take))

        started = time.perf_counter()
        summary = Scheduler(engine, plan, concurrency=concurrency, on_event=save).run()
        wall = time.perf_counter() - started
        engine.close()
        store.close()
    rejected, peak, served = server.finish()
    assert summary.takes == len(plan.jobs) and not summary.failed and peak <= concurrency
    return wall, ideal(plan, model, concurrency), ideal(plan, served, concurrency), rejected


def offline_speed() -> float:
    from studio.core.engines.offline import OfflineEngine

    engine = OfflineEngine()
    text = " ".join(["The quick brown fox jumps over the lazy dog near the quiet river bank."]
                    * 70)  # about 1,000 words
    engine.synthesize(SpeechRequest(text="Warm up.", voice_id="en-us", model_id=""))
    cpu = time.process_time()
    result = engine.synthesize(SpeechRequest(text=text, voice_id="en-us", model_id=""))
    used = time.process_time() - cpu
    return result.duration / used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paragraphs", type=int, default=6, help="paragraphs per chapter")
    parser.add_argument("--quick", action="store_true", help="C = 5 only")
    args = parser.parse_args()
    print(f"30 chapters x {args.paragraphs} paragraphs (250-750 characters), service time "
          f"{BASE_S * 1000:.0f} ms + 1 ms per 20 characters; fake server in its own process")
    print("ideal = max(total service time / C, longest chain); 'model' uses the latency model,")
    print("'served' the time the fake actually took per request (its own overhead included)")
    print(f"{'C':>3} {'wall s':>7} {'model s':>8} {'model/wall':>10} {'served s':>9} "
          f"{'served/wall':>11} {'429s':>5}")
    for c in ([5] if args.quick else [1, 5, 15]):
        wall, modelled, served, rejected = bench(c, args.paragraphs)
        print(f"{c:>3} {wall:>7.2f} {modelled:>8.2f} {modelled / wall:>10.2f} {served:>9.2f} "
              f"{served / wall:>11.2f} {rejected:>5}")
    print(f"offline engine: {offline_speed():.0f} s of audio per CPU second")


if __name__ == "__main__":
    main()
