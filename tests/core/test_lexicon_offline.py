"""The same lexicon drives offline speech (espeak-ng) and offline alignment (PocketSphinx)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from studio.core import audio
from studio.core.engines import SpeechRequest
from studio.core.engines.offline import OfflineEngine, _prepare, text_to_phonemes
from studio.core.lexicon.phonemes import to_cmu
from studio.core.lexicon.sphinx import RuleWords, add_to_decoder, rule_phones, sphinx_entries
from studio.core.model import (
    Project,
    PronunciationRule,
    Voice,
    VoiceId,
    add_chapter,
    add_take,
    add_voice,
    set_dictionaries,
)

pocketsphinx = pytest.importorskip("pocketsphinx")

CHUMLEY = PronunciationRule("Cholmondeley", "phoneme", "CH AH1 M L IY0", "cmu-arpabet")


def _speak(text: str, *rules: PronunciationRule) -> np.ndarray:
    result = OfflineEngine().synthesize(
        SpeechRequest(text=text, voice_id="en-us", model_id="offline-espeak", lexicon=rules))
    samples, rate = audio.decode(result.audio, result.format)
    t16 = np.arange(0, len(samples) / rate, 1 / 16000)
    mono = np.interp(t16, np.arange(len(samples)) / rate, np.asarray(samples, dtype=np.float64))
    return np.clip(mono * 32767, -32768, 32767).astype(np.int16)


def _heard(pcm: np.ndarray, decoder: object) -> str:
    d = decoder
    d.start_utt()  # type: ignore[attr-defined]
    d.process_raw(pcm.tobytes(), full_utt=True)  # type: ignore[attr-defined]
    d.end_utt()  # type: ignore[attr-defined]
    hyp = d.hyp()  # type: ignore[attr-defined]
    return hyp.hypstr if hyp else ""


def test_offline_speech_follows_a_phoneme_rule_as_recognition_hears_it() -> None:
    # What espeak says by itself ("kˈoʊməndˌɛli"), as CMU phones for the recogniser.
    default = to_cmu(text_to_phonemes("Cholmondeley").replace(" ", ""), "ipa")
    assert default.split()[:2] == ["K", "OW"]
    decoder = pocketsphinx.Decoder(samprate=16000, loglevel="FATAL")
    # The rule goes into the recogniser's dictionary exactly as the aligner would add it.
    assert add_to_decoder(decoder, [CHUMLEY]) == 1
    assert decoder.lookup_word("cholmondeley") == "CH AH M L IY"
    decoder.add_word("asspelled", default, True)
    decoder.add_jsgf_string(
        "names", "#JSGF V1.0;\ngrammar names;\npublic <w> = cholmondeley | asspelled ;")
    decoder.activate_search("names")
    assert _heard(_speak("Cholmondeley."), decoder) == "asspelled"
    assert _heard(_speak("Cholmondeley.", CHUMLEY), decoder) == "cholmondeley"


def test_rules_keep_timings_on_the_text_as_written() -> None:
    alias = PronunciationRule("UN", "alias", "United Nations")
    prepared = _prepare("The UN [[x]] met Cholmondeley.", (alias, CHUMLEY))
    assert "United Nations" in prepared.ssml and "[[tS'Vmli:]]" in prepared.ssml
    assert prepared.ssml.count("[[") == 1 and prepared.phonemes  # user brackets are no input
    words = OfflineEngine().synthesize(SpeechRequest(
        text="The UN met Cholmondeley.", voice_id="en-us", model_id="offline-espeak",
        lexicon=(alias, CHUMLEY))).word_timings
    assert [w.word for w in words] == ["The", "UN", "met", "Cholmondeley."]
    assert all(b.start >= a.start for a, b in itertools.pairwise(words))


def test_alias_rules_become_alignment_entries_from_their_words() -> None:
    phones = {"united": "Y UW N AY T IH D", "nations": "N EY SH AH N Z"}
    entries = sphinx_entries([PronunciationRule("UN", "alias", "United Nations"),
                              PronunciationRule("New York", "alias", "Big Apple"),
                              PronunciationRule("Xq", "alias", "unknownword")], phones.get)
    assert entries == {"un": "Y UW N AY T IH D N EY SH AH N Z"}


CHUM_TEXT = ("Lord Cholmondeley arrived at the house on Monday, and Cholmondeley smiled at "
             "everyone in the room.")


def _chum_project(*rules: PronunciationRule, texts: tuple[str, ...] = (CHUM_TEXT,)
                  ) -> Project:
    """A project narrated offline with the rules (the takes say them)."""
    from studio.core.generation import make_take, plan_render
    from studio.core.lexicon import edits

    project = Project(title="Chum", language="en")
    add_voice(project, Voice(VoiceId("n"), "Narrator", engine="offline",
                             engine_voice_id="en-us"))
    add_chapter(project, "One", list(texts))
    edits.add_dictionary(project, "Names", rules)
    engine = OfflineEngine()
    for job in plan_render(project, engine="offline").jobs:
        add_take(project, make_take([(job, engine.synthesize(job.request))], "offline"))
    return project


def test_rule_words_carry_their_phones_and_map_back() -> None:
    words = RuleWords([CHUMLEY, PronunciationRule("UN", "alias", "United Nations")],
                      ["lord", "cholmondeley", "un"])
    name = words.names["cholmondeley"]
    assert rule_phones(name) == "CH AH M L IY" and rule_phones("cholmondeley") is None
    assert words.to_dictionary(["lord", "cholmondeley"]) == ["lord", name]
    assert words.from_dictionary(name) == "cholmondeley" and words.phone_count("un") == 13
    assert not RuleWords([CHUMLEY], ["lord"])  # only the words to decode count


def test_the_narration_check_hears_a_name_said_as_the_projects_rule_says() -> None:
    from studio.core.transcript.check import check_narration

    # Recognising one name in a sentence is hit and miss (espeak's output also varies a
    # little with what it said before), so three paragraphs, five occurrences.
    project = _chum_project(CHUMLEY, texts=(
        CHUM_TEXT, "We waited for Cholmondeley all evening.", "Lord Cholmondeley arrived."))
    heard = [w for c in check_narration(project) for w in c.heard]
    assert heard.count("cholmondeley") >= 2
    set_dictionaries(project, [])  # same audio, the check no longer knows the rule
    assert "cholmondeley" not in [w for c in check_narration(project) for w in c.heard]


def test_aligning_a_take_with_the_rule_times_the_name_where_it_is_said(tmp_path) -> None:
    from studio.core.transcript.align import align_text

    project = _chum_project(CHUMLEY)
    take = project.chapters[0].blocks[0].current_take
    assert take is not None and take.audio is not None
    media = tmp_path / "take.wav"
    media.write_bytes(take.audio)
    said = take.word_timings[1]  # the engine's own time for the first "Cholmondeley"
    assert said.word == "Cholmondeley"
    with_rule = align_text(media, CHUM_TEXT, rules=[CHUMLEY])[1]
    assert abs(with_rule.start - said.start) < 0.1 and abs(with_rule.end - said.end) < 0.15
    assert 0.2 < with_rule.end - with_rule.start < 0.6
    without = align_text(media, CHUM_TEXT)[1]
    assert abs(without.start - said.start) > 0.3  # spelled "ch-o-l-m-..." is lost


def test_studio_align_takes_a_pls_lexicon(tmp_path) -> None:
    import json
    import subprocess
    import sys

    from studio.core.lexicon.pls import write_pls

    project = _chum_project(CHUMLEY)
    take = project.chapters[0].blocks[0].current_take
    assert take is not None and take.audio is not None
    (tmp_path / "take.wav").write_bytes(take.audio)
    (tmp_path / "take.txt").write_text(CHUM_TEXT, encoding="utf-8")
    (tmp_path / "names.pls").write_bytes(write_pls([CHUMLEY]))
    run = subprocess.run([sys.executable, "-m", "studio", "align", tmp_path / "take.wav",
                          tmp_path / "take.txt", "-o", tmp_path / "t.json", "--lexicon",
                          tmp_path / "names.pls"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    word = json.loads((tmp_path / "t.json").read_text())["words"][1]
    assert word["text"] == "Cholmondeley"
    assert abs(word["start"] - take.word_timings[1].start) < 0.1
    bad = subprocess.run([sys.executable, "-m", "studio", "align", tmp_path / "take.wav",
                          tmp_path / "take.txt", "-o", tmp_path / "u.json", "--lexicon",
                          tmp_path / "nope.pls"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "nope.pls" in bad.stderr
