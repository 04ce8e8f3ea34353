"""Speaker detection on a hand-checked real chapter, voice proposals and cast application."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from studio.core import model as m
from studio.core.casting.cast import apply_cast, cast_voices, clear_cast, propose_voices
from studio.core.casting.detect import CastSheet, detect
from studio.core.casting.sample import project_from_text
from studio.core.engines import EngineVoice
from studio.core.model import BlockStatus, Voice, VoiceId
from tests.core.factories import make_take

DATA = Path(__file__).parent.parent / "data" / "casting"
BOOK = DATA / "pride_and_prejudice_ch1-2.txt"
KEY = DATA / "pride_and_prejudice_ch1-2.answers.json"


def _sheet(text: str) -> CastSheet:
    return detect(project_from_text(text))


def _who(sheet: CastSheet) -> list[str | None]:
    return [sheet.character(ln.speaker).name if ln.speaker else None for ln in sheet.lines]


def attribution_share() -> tuple[float, int]:
    sheet = detect(project_from_text(BOOK.read_text(encoding="utf-8")))
    key = json.loads(KEY.read_text(encoding="utf-8"))["lines"]
    assert len(sheet.lines) == len(key)
    right = 0
    for want, line in zip(key, sheet.lines, strict=True):
        assert line.text.startswith("“" + want["starts"])
        if line.speaker is not None:
            c = sheet.character(line.speaker)
            right += want["speaker"].lower() in c.aliases | {c.name.lower()}
    return right / len(key), len(key)


def test_hand_checked_chapter_is_mostly_attributed_right() -> None:
    share, lines = attribution_share()
    assert lines == 64
    assert share >= 0.95  # 63 of 64 at the time of writing (README)


UNSEEN = DATA / "pride_and_prejudice_ch5-6.txt"
UNSEEN_KEY = DATA / "pride_and_prejudice_ch5-6.answers.json"


def unseen_share() -> tuple[float, int]:
    """Score chapters the rules were not written on (5-6): a line is right when its
    character goes by one of the names the key gives the speaker (Charlotte is also
    "Miss Lucas", Elizabeth "Eliza" and "Lizzy")."""
    sheet = detect(project_from_text(UNSEEN.read_text(encoding="utf-8")))
    key = json.loads(UNSEEN_KEY.read_text(encoding="utf-8"))
    names = {who: {n.lower().replace(".", "") for n in forms}
             for who, forms in key["names"].items()}
    assert len(sheet.lines) == len(key["lines"])
    right = 0
    for want, line in zip(key["lines"], sheet.lines, strict=True):
        assert line.text.startswith("“" + want["starts"])
        if line.speaker is not None:
            c = sheet.character(line.speaker)
            known = {a.replace(".", "") for a in c.aliases | {c.name.lower()}}
            right += bool(known & names[want["speaker"]])
    return right / len(key["lines"]), len(key["lines"])


def test_unseen_chapters_are_attributed_as_the_readme_says() -> None:
    share, lines = unseen_share()
    assert lines == 80
    # 62 of 80 (77.5%) with the rules as tuned on chapters 1-2; 70 of 80 (87.5%) after
    # the fixes these chapters showed (README).
    assert share >= 70 / 80


def test_main_characters_are_found_with_their_lines() -> None:
    sheet = _sheet(BOOK.read_text(encoding="utf-8"))
    names = {c.name: c for c in sheet.characters}
    assert list(names)[:2] == ["Mrs. Bennet", "Mr. Bennet"]
    assert {"Elizabeth", "Kitty", "Lydia"} <= set(names)
    assert names["Mrs. Bennet"].gender == "female" and names["Mr. Bennet"].gender == "male"
    assert "lizzy" in names["Elizabeth"].aliases
    assert all(0 < ln.confidence <= 1 for ln in sheet.lines if ln.speaker)
    assert sheet.lines_of(names["Lydia"].id)[0].text == "“Oh!”"


@pytest.mark.parametrize("text, speakers", [
    ('"Come in," said Holmes. "Sit down."', ["Holmes", "Holmes"]),
    ("“You know my methods,” Holmes said.", ["Holmes"]),
    ("“Where?” replied the inspector.", ["The inspector"]),
    ("Lestrade looked up. “Not a clue,” he muttered.", ["Lestrade"]),
    ("Sherlock Holmes said quietly, “It is simple.”\n\n“Simple?” cried Holmes.",
     ["Sherlock Holmes", "Sherlock Holmes"]),
])
def test_attribution_forms(text: str, speakers: list[str]) -> None:
    assert _who(_sheet(text)) == speakers


def test_alternation_vocatives_and_pronouns_in_a_conversation() -> None:
    text = "\n\n".join([
        "“Watson, come here,” said Holmes.",
        "“What is it?” said I.",
        "“A letter.”",
        "“From whom?”",
        "Mary Morstan entered the room. Her eyes were red.",
        "“Mr. Holmes, you must help me.”",
        "“I shall, Miss Morstan,” he replied.",
        "“Thank you,” she said.",
    ])
    sheet = _sheet(text)
    assert _who(sheet) == ["Mr. Holmes", "I", "Mr. Holmes", "I", "Mary Morstan",
                           "Mr. Holmes", "Mary Morstan"]
    methods = [ln.method for ln in sheet.lines]
    assert methods[2:4] == ["alternation", "alternation"] and methods[4] == "beat"


def test_a_quote_over_two_paragraphs_keeps_its_speaker_and_single_quotes_work() -> None:
    text = "‘It began,’ said Alice, ‘long ago.\n\n‘Then it ended. Don’t ask.’\n\n‘Fine,’ said Bob."
    sheet = _sheet(text)
    assert _who(sheet) == ["Alice", "Alice", "Alice", "Bob"]
    assert sheet.lines[2].method == "continuation"


def test_narrator_keeps_unattributed_lines() -> None:
    sheet = _sheet("“Who is there?”\n\nThe wind answered nothing.")
    assert _who(sheet) == [None] and sheet.doubtful() == list(sheet.lines)


VOICES = [
    EngineVoice("v-old-m", "Grandpa", labels={"gender": "male", "age": "old"}),
    EngineVoice("v-f1", "Rachel", labels={"gender": "female", "age": "young",
                                          "accent": "american"}),
    EngineVoice("v-f2", "Alice", labels={"gender": "female", "age": "middle aged",
                                         "accent": "british"}),
    EngineVoice("v-m1", "Daniel", labels={"gender": "male", "age": "middle aged",
                                          "accent": "british"}),
    EngineVoice("v-narr", "Narrator", labels={"gender": "male", "accent": "british"}),
]


def test_proposals_match_gender_and_accent_and_spread_voices() -> None:
    sheet = _sheet(BOOK.read_text(encoding="utf-8"))
    props = {sheet.character(p.character_id).name: p for p in
             propose_voices(sheet, VOICES, narrator_voice_id="v-narr", accent="british")}
    assert props["Mrs. Bennet"].voice.voice_id == "v-f2"
    assert props["Mr. Bennet"].voice.voice_id == "v-m1"
    assert props["Elizabeth"].voice.voice_id == "v-f1"  # the british one is taken
    assert "gender female" in props["Mrs. Bennet"].reasons
    assert all(p.voice.voice_id != "v-narr" for p in props.values())


def test_apply_cast_sets_spans_and_a_voice_change_stales_exactly_those_lines() -> None:
    project = project_from_text(BOOK.read_text(encoding="utf-8"))
    narrator = Voice(VoiceId("narr"), "Narrator", engine="offline", engine_voice_id="en-gb")
    m.add_voice(project, narrator)
    sheet = detect(project)
    ids = {c.name: c.id for c in sheet.characters}
    voices, changes = cast_voices(project, sheet, "offline", {
        ids["Mrs. Bennet"]: "en-gb+f3", ids["Mr. Bennet"]: "en-gb+m3",
        ids["Lydia"]: "en-gb+f2"})
    assert len(changes.voices) == 3 and project.voices[voices[ids["Lydia"]]].alias == "Lydia"
    changes, applied = apply_cast(project, sheet, voices, min_confidence=0.5)
    assert applied.spans > 40 and applied.skipped_doubtful > 0
    lydia_para = next(b for _, b in project.iter_blocks() if b.text.startswith("“Oh!”"))
    assert [(s.start, s.end, s.voice_id) for s in lydia_para.spans] == [
        (0, 5, voices[ids["Lydia"]]), (26, len(lydia_para.text), voices[ids["Lydia"]])]
    assert lydia_para.id in changes.blocks
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))
    m.update_voice(project, voices[ids["Lydia"]], engine_voice_id="en-gb+f4")
    stale = [b.id for _, b in project.iter_blocks()
             if m.block_status(project, b) is BlockStatus.STALE]
    assert stale == [lydia_para.id]
    undo = clear_cast(project, list(voices.values()))
    assert lydia_para.id in undo.blocks and not lydia_para.spans


def test_a_100000_word_novel_takes_seconds() -> None:
    text = BOOK.read_text(encoding="utf-8")
    project = project_from_text("\n\n".join([text] * 61))
    assert sum(len(b.text.split()) for _, b in project.iter_blocks()) > 100_000
    start = time.perf_counter()
    sheet = detect(project)
    assert time.perf_counter() - start < 5.0
    assert len(sheet.lines) == 64 * 61


def test_unseen_chapters_name_characters_as_the_book_does() -> None:
    sheet = _sheet(UNSEEN.read_text(encoding="utf-8"))
    names = {c.name: c for c in sheet.characters}
    assert "By Jane" not in names and "Jane" in names  # "By Jane this attention was …"
    assert "A young Lucas" in names  # capitals kept
    assert "Elizabeth" in names and "Miss Eliza" not in names
    assert "eliza" in names["Elizabeth"].aliases  # the nickname link is kept
    assert "Sir William Lucas" in names and "Sir William" not in names  # one person


@pytest.mark.parametrize("text, name, age, gender", [
    ("“Hush,” said a young Lucas.", "A young Lucas", "young", ""),
    ("“Go away,” said the old man.", "The old man", "old", "male"),
    ("“Mine!” cried the little girl.", "The little girl", "young", "female"),
    ("“Indeed,” said Miss Grey.", "Miss Grey", "young", "female"),
    ("“Indeed,” said Mrs. Grey.", "Mrs. Grey", "middle aged", "female"),
    ("“Indeed,” said Mr. Grey.", "Mr. Grey", "", "male"),
])
def test_age_and_gender_come_from_titles_and_descriptions(text: str, name: str, age: str,
                                                          gender: str) -> None:
    (c,) = _sheet(text).characters
    assert (c.name, c.age, c.gender) == (name, age, gender)


def test_offline_proposals_keep_the_narrators_accent_and_spread_voices() -> None:
    from studio.core.engines.offline import OfflineEngine

    voices = OfflineEngine().voices()
    for book in (BOOK, UNSEEN):
        sheet = _sheet(book.read_text(encoding="utf-8"))
        props = propose_voices(sheet, voices, narrator_voice_id="en-us")
        assert len(props) == len(sheet.characters) >= 5
        assert all(p.voice.labels["language"] == "en-us" for p in props)  # not en-029
        assert len({p.voice.voice_id for p in props}) == len(props)  # all distinct
        assert all(p.voice.voice_id != "en-us" for p in props)  # not the narrator's own
        for p in props:
            c = sheet.character(p.character_id)
            assert not c.gender or p.voice.labels["gender"] == c.gender
    # A British narrator gets British characters.
    sheet = _sheet(BOOK.read_text(encoding="utf-8"))
    props = propose_voices(sheet, voices, narrator_voice_id="en")
    assert all(p.voice.labels["language"] == "en-gb" for p in props)
