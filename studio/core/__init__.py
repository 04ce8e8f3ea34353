"""Qt-free core of Narrator Studio: model, project store, import, audio and engines.

Nothing under this package may import PySide6, pyqtgraph or ``studio.ui``; a test checks it.
"""
