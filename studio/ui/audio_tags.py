"""Eleven v3 audio tags in the paragraph editor: highlighting and completion after ``[``.

Tags are always highlighted, whatever the model, so an author sees them in any project; on
a model other than v3 they are drawn struck through in a muted amber (v3 performs them,
other models do not). Completion is offered only when the project's model is v3: typing
``[`` opens a list of the documented tags (:data:`studio.core.v3.TAGS`), narrowed as the
author types, the most used ones first; Return or Tab inserts ``[tag]``, Escape closes it.
"""

from __future__ import annotations

import re
from typing import Final

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtGui import QColor, QFont, QKeyEvent, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QCompleter, QPlainTextEdit

from studio.core import v3

_TAG: Final = re.compile(r"\[[^\[\]\n]{1,60}\]")
#: offered first when they match what is typed (the tags authors reach for most)
COMMON: Final = ("whispers", "laughs", "sighs", "excited", "sarcastic", "curious", "crying",
                 "exhales", "sad")
_POPUP_KEYS: Final = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab,
                      Qt.Key.Key_Backtab, Qt.Key.Key_Escape)


def tag_format(dark: bool, v3_model: bool) -> QTextCharFormat:
    """Return the format of an audio tag in the editor for the theme and model."""
    fmt = QTextCharFormat()
    if v3_model:
        fmt.setForeground(QColor(200, 160, 255) if dark else QColor(110, 40, 170))
        fmt.setBackground(QColor(70, 45, 100) if dark else QColor(240, 228, 252))
    else:
        fmt.setForeground(QColor(215, 170, 90) if dark else QColor(150, 100, 20))
        fmt.setFontStrikeOut(True)
    fmt.setFontItalic(True)
    fmt.setFontWeight(QFont.Weight.DemiBold)
    return fmt


def row_tag_format(dark: bool, v3_model: bool) -> QTextCharFormat:
    """Return the format of an audio tag in a painted paragraph row: the editor's colours
    only (no weight or slant), so the row's measured height stays right."""
    full = tag_format(dark, v3_model)
    fmt = QTextCharFormat()
    fmt.setForeground(full.foreground())
    if full.hasProperty(QTextCharFormat.Property.BackgroundBrush):
        fmt.setBackground(full.background())
    fmt.setFontStrikeOut(full.fontStrikeOut())
    return fmt


def tag_ranges(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` of every ``[tag]`` in ``text``."""
    return [m.span() for m in _TAG.finditer(text)] if "[" in text else []


def highlight_audio_tags(highlighter: QSyntaxHighlighter, text: str, dark: bool,
                         v3_model: bool) -> None:
    """Format every ``[tag]`` of one text block (called from ``highlightBlock``)."""
    if "[" not in text:
        return
    fmt = tag_format(dark, v3_model)
    for match in _TAG.finditer(text):
        highlighter.setFormat(match.start(), match.end() - match.start(), fmt)


def ranked_completions(text: str, cursor: int) -> list[str]:
    """Return the tags completing what is typed after ``[``, the common ones first."""
    found = v3.complete_tag(text, cursor)
    common = [t for t in COMMON if t in found]
    typed = text[text.rfind("[", 0, cursor) + 1:cursor].lower()
    starts = [t for t in found if t.startswith(typed) and t not in common]
    rest = [t for t in found if t not in common and t not in starts]
    if typed:  # the common tags that start with what is typed, before those that contain it
        lead = [t for t in common if t.startswith(typed)]
        return lead + starts + [t for t in common if t not in lead] + rest
    return common + starts + rest


class TagCompleter(QObject):
    """Offer audio tags in a popup while ``[tag`` is typed in a plain-text editor.

    The editor calls :meth:`key_pressed` before it handles a key (True: leave the key to the
    popup) and :meth:`text_typed` after.
    """

    def __init__(self, editor: QPlainTextEdit) -> None:
        super().__init__(editor)
        self.editor = editor
        self.enabled = True
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setWidget(editor)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(8)
        self.completer.activated.connect(self.insert)
        self.completer.popup().setObjectName("audioTagPopup")

    @property
    def visible(self) -> bool:
        """Return whether the popup is showing."""
        return self.completer.popup().isVisible()

    def key_pressed(self, event: QKeyEvent) -> bool:
        """Return True when the key belongs to the open popup (the editor must ignore it)."""
        if self.visible and event.key() in _POPUP_KEYS:
            event.ignore()  # the completer handles it (insert, or close on Escape)
            return True
        return False

    def text_typed(self, event: QKeyEvent) -> None:
        """Open, narrow or close the popup after a key changed the text or moved the cursor."""
        if not self.enabled:
            return
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            self.completer.popup().hide()
            return
        text = self.editor.toPlainText()
        pos = cursor.position()
        tags = ranked_completions(text, pos) if event.text() or self.visible else []
        if not tags:
            self.completer.popup().hide()
            return
        self.model.setStringList(tags)
        self.completer.setCompletionPrefix("")
        rect = self.editor.cursorRect()
        popup = self.completer.popup()
        rect.setWidth(popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width()
                      + 16)
        self.completer.complete(rect)
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def insert(self, tag: str) -> None:
        """Replace the ``[`` and what follows it at the cursor with ``[tag]``."""
        cursor = self.editor.textCursor()
        text = self.editor.toPlainText()
        pos = cursor.position()
        start = text.rfind("[", 0, pos)
        if start < 0:
            return
        end = pos + 1 if text[pos:pos + 1] == "]" else pos
        cursor.beginEditBlock()
        cursor.setPosition(start)
        cursor.setPosition(end, cursor.MoveMode.KeepAnchor)
        cursor.insertText(f"[{tag}]")
        cursor.endEditBlock()
        if " X " in f" {tag} ":  # "strong X accent": select the X to type over it
            x = start + 1 + f" {tag} ".index(" X ")
            cursor.setPosition(x)
            cursor.setPosition(x + 1, cursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.completer.popup().hide()
