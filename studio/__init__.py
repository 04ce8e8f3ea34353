"""Narrator Studio: narrate books with AI voices."""

__version__ = "0.1.0"
