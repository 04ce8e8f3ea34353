"""The transcript editor window (issue 6): media, waveform, transcript text and subtitles.

* :mod:`.document` - the open transcript and subtitle track, their undo stack and commands.
* :mod:`.text_view` - the transcript's segments as a list grouped by speaker, word highlight,
  click a word to seek, Enter to split.
* :mod:`.regions` - segment or cue regions on the waveform, edges dragged to retime.
* :mod:`.speakers` - the speakers panel.
* :mod:`.subtitles_view` - the subtitles tab: rules, cues and their rule checks.
* :mod:`.media` - decode media for the waveform and the player.
* :mod:`.tasks` - cancellable background work with progress.
* :mod:`.window` - the window itself and its actions.
"""
