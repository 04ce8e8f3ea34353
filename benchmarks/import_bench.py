"""Import speed and memory on a generated 1,000,000-word EPUB.

Prints, for each phase run in a fresh process (median of --runs):
  * baseline: unzip every entry and parse each XHTML file with lxml (the floor for any EPUB
    importer in Python);
  * import:   ``studio.core.importing.import_source`` (EPUB -> cleaned Project + report);
  * import+save: the same plus writing the ``.studio`` file (what ``studio import`` does).
and the ratio of each to the baseline measured in the same run. Aim: import <= 3x baseline.

    .venv/bin/python benchmarks/import_bench.py [--words 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_VOCABULARY = (
    "the of and to a in that it was he his her she with as for had you not be on at by which "
    "have or from this him but all were they my are me one their so an said them we who would "
    "been will no when there if more out up into do any your what has man could other than our "
    "some very time upon about may its only now like little then can made should did us such "
    "great before must two these see know over much down after first mister good men own never "
    "most old shall day where those came come himself way work life without go make well "
    "through being long say might how am too even def again many back here think every people "
    "went yet just thought nothing lady house still while though face eyes hand door night "
    "holmes watson street letter window morning evening london country friend question answer"
)
WORDS = _VOCABULARY.split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 22))]
    words[0] = words[0].capitalize()
    text = " ".join(words) + rng.choice(".....?!")
    if rng.random() < 0.2:
        text = f"“{text}” said {rng.choice(['Holmes', 'Watson', 'the lady', 'he', 'she'])}."
    return text


def build_epub(path: Path, total_words: int, chapters: int = 100, seed: int = 1) -> int:
    """Write an EPUB 3 of about ``total_words`` words; return the exact word count."""
    rng = random.Random(seed)
    per_chapter = total_words // chapters
    count = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        manifest, spine, nav = [], [], []
        for c in range(1, chapters + 1):
            paragraphs, words = [], 0
            while words < per_chapter:
                para = " ".join(_sentence(rng) for _ in range(rng.randint(2, 7)))
                words += len(para.split())
                paragraphs.append(f"<p>{para}</p>")
            count += words
            body = "\n".join(paragraphs)
            zf.writestr(
                f"OEBPS/ch{c:03d}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"'
                ' xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Chapter</title></head>'
                f'<body><section epub:type="chapter"><h2>Chapter {c}</h2>\n{body}'
                "</section></body></html>",
            )
            manifest.append(
                f'<item id="ch{c}" href="ch{c:03d}.xhtml" media-type="application/xhtml+xml"/>'
            )
            spine.append(f'<itemref idref="ch{c}"/>')
            nav.append(f'<li><a href="ch{c:03d}.xhtml">Chapter {c}</a></li>')
        zf.writestr(
            "OEBPS/nav.xhtml",
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
            'xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>'
            + "".join(nav) + "</ol></nav></body></html>",
        )
        zf.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
            'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/'
            '1.1/"><dc:title>Benchmark Book</dc:title><dc:identifier id="id">bench</dc:identifier>'
            "<dc:language>en</dc:language></metadata><manifest>"
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
            + "".join(manifest) + "</manifest><spine>" + "".join(spine) + "</spine></package>",
        )
    return count


# name -> (setup, timed work). Imports happen in the setup, outside the timed region.
PHASES = {
    "baseline": (
        "import zipfile\nfrom lxml import etree",
        """
with zipfile.ZipFile(PATH) as zf:
    for name in zf.namelist():
        data = zf.read(name)
        if name.endswith('.xhtml'):
            etree.fromstring(data)
""",
    ),
    "import": (
        "from studio.core.importing import import_source\nimport studio.core.importing.epub",
        "project, report = import_source(PATH)\nassert report.words > 0",
    ),
    "import+save": (
        "import tempfile, pathlib\nfrom studio.core.importing import import_source\n"
        "import studio.core.importing.epub\n"
        "from studio.core.store import ProjectStore\n"
        "out = pathlib.Path(tempfile.mkdtemp()) / 'bench.studio'",
        "project, report = import_source(PATH)\nProjectStore.create(out, project).close()",
    ),
}

RUNNER = """
import json, resource, sys, time
PATH = sys.argv[1]
exec(compile(sys.argv[2], 'setup', 'exec'))
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
exec(compile(sys.argv[3], 'work', 'exec'))
elapsed = time.perf_counter() - t0
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mb": rss1 / 1024, "delta_mb": (rss1 - rss0) / 1024}))
"""


def run_phase(code: tuple[str, str], epub: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, str(epub), *code],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        epub = Path(tmp) / "bench.epub"
        t0 = time.perf_counter()
        words = build_epub(epub, args.words)
        print(f"generated {words:,} words, {epub.stat().st_size / 1e6:.1f} MB EPUB "
              f"in {time.perf_counter() - t0:.1f} s")
        results: dict[str, dict[str, float]] = {}
        for name, code in PHASES.items():
            runs = [run_phase(code, epub) for _ in range(args.runs)]
            results[name] = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "peak_mb": max(r["peak_mb"] for r in runs),
                "delta_mb": max(r["delta_mb"] for r in runs),
            }
        base = results["baseline"]
        print(f"{'phase':<12} {'seconds':>8} {'x base':>7} {'peak MB':>8} {'+MB':>7}")
        for name, r in results.items():
            print(f"{name:<12} {r['seconds']:>8.2f} {r['seconds'] / base['seconds']:>7.2f} "
                  f"{r['peak_mb']:>8.0f} {r['delta_mb']:>7.0f}")
        ratio = results["import"]["seconds"] / base["seconds"]
        print(f"import / baseline = {ratio:.2f}x (aim: at most 3x)")


if __name__ == "__main__":
    main()
