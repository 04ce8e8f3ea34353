"""Casting: find who speaks each quoted line, propose a voice per character, apply them.

:mod:`.detect` reads the book's quotes and attributions offline (no model, no network) and
returns a :class:`~studio.core.casting.detect.CastSheet`; :mod:`.cast` matches characters
to engine voices on their labels and applies the assignments as voice spans. The narrator
keeps everything not attributed.
"""
