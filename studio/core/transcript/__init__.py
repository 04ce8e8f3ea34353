"""Transcripts, alignment and subtitles (issue 6): a Qt-free core for the transcript editor.

* :mod:`.model` - speakers, segments and timed words, and the edits (pure functions that
  return :class:`~.model.TranscriptChanges`).
* :mod:`.io` - our JSON, ElevenLabs Speech to Text JSON, TXT and HTML.
* :mod:`.subtitles` - cues under rules, cue edits, SRT/VTT through pysubs2.
* :mod:`.media` - probing and streaming decode to 16 kHz PCM.
* :mod:`.align` - offline (PocketSphinx) forced alignment in anchored chunks, "Align words",
  offline transcription.
* :mod:`.elevenlabs` - ElevenLabs Speech to Text and Forced Alignment clients.
* :mod:`.narration` - the transcript of a project's own narration from its take timings.
"""
