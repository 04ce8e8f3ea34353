"""The shortcut sheet lists the real keys, and no two commands share a key."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import QStandardPaths

from studio.ui.main_window import MainWindow
from studio.ui.shortcuts import ShortcutsDialog, shortcut_rows


@pytest.fixture(autouse=True)
def _paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def test_sheet_lists_the_main_keys_without_clashes(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    rows = shortcut_rows(window)
    by_command = {command: keys for _, command, keys in rows}
    assert by_command["Play / Pause"] == "Space"
    assert by_command["Generate Chapter"] == "Ctrl+G"
    assert "Ctrl+Z" in by_command["Undo"] and "Ctrl+Shift+Z" in by_command["Redo"]
    assert by_command["Lock / Unlock Paragraph"] == "Ctrl+L"
    for _, command, ks in rows:  # a key listed twice for one command is ambiguous to Qt
        listed = [k.strip() for k in ks.split(",")]
        assert len(listed) == len(set(listed)), (command, ks)
    keys = Counter(k.strip() for _, _, ks in rows for k in ks.split(","))
    clashes = {k: n for k, n in keys.items() if n > 1}
    assert clashes == {}, clashes
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(rows) > 10

