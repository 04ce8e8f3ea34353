"""The same lexicon drives offline speech (espeak-ng) and offline alignment (PocketSphinx)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from studio.core import audio
from studio.core.engines import SpeechRequest
from studio.core.engines.offline import OfflineEngine, _prepare, text_to_phonemes
from studio.core.lexicon.phonemes import to_cmu
from studio.core.lexicon.sphinx import add_to_decoder, sphinx_entries
from studio.core.model import PronunciationRule

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
