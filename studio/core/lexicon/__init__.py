"""Pronunciation dictionaries: rules, matching, PLS files, phonemes, manuscript scan, upload.

A dictionary is a :class:`~studio.core.model.DictionaryRef` whose ``rules`` are
:class:`~studio.core.model.PronunciationRule` s. Matching follows ElevenLabs: case-sensitive
unless a rule says otherwise, scanned top to bottom, first matching rule wins. The same
rules drive the ElevenLabs upload and warnings (:mod:`.eleven`), offline speech (the offline
engine turns phoneme rules into espeak phoneme input) and offline alignment (:mod:`.sphinx`).
"""
