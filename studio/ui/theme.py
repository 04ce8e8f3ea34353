"""Light and dark themes: follow the system's colour scheme, or force one (View ▸ Theme).

The choice ("system", "light" or "dark") is kept in ``QSettings`` under ``ui/theme``. Both
themes use the Fusion style with a complete palette of our own, so every widget (and the
pyqtgraph waveform, which repaints from the palette) looks the same on every platform. In
"system" mode the theme follows ``QStyleHints.colorScheme()`` and changes with it
(``colorSchemeChanged``, Qt 6.5+); where the platform does not say, the theme is light.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

SETTINGS_KEY = "ui/theme"
CHOICES = (("system", "&System"), ("light", "&Light"), ("dark", "&Dark"))

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup


def _palette(colours: dict[_Role, str], disabled: dict[_Role, str]) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role, colour in disabled.items():
        palette.setColor(_Group.Disabled, role, QColor(colour))
    return palette


def light_palette() -> QPalette:
    """Return Fusion's light palette, spelled out so it does not depend on the platform."""
    return _palette({
        _Role.Window: "#efefef", _Role.WindowText: "#000000", _Role.Base: "#ffffff",
        _Role.AlternateBase: "#f7f7f7", _Role.ToolTipBase: "#ffffdc",
        _Role.ToolTipText: "#000000", _Role.PlaceholderText: "#7f7f7f", _Role.Text: "#000000",
        _Role.Button: "#efefef", _Role.ButtonText: "#000000", _Role.BrightText: "#ffffff",
        _Role.Light: "#ffffff", _Role.Midlight: "#cacaca", _Role.Mid: "#b8b8b8",
        _Role.Dark: "#9f9f9f", _Role.Shadow: "#767676", _Role.Highlight: "#308cc6",
        _Role.HighlightedText: "#ffffff", _Role.Link: "#0000ff", _Role.LinkVisited: "#ff00ff",
    }, {
        _Role.WindowText: "#bebebe", _Role.Text: "#bebebe", _Role.ButtonText: "#bebebe",
        _Role.Base: "#efefef", _Role.Highlight: "#919191",
    })


def dark_palette() -> QPalette:
    """Return a dark palette for Fusion: light text on dark greys, blue selection."""
    return _palette({
        _Role.Window: "#353535", _Role.WindowText: "#e6e6e6", _Role.Base: "#232323",
        _Role.AlternateBase: "#2c2c2c", _Role.ToolTipBase: "#424242",
        _Role.ToolTipText: "#e6e6e6", _Role.PlaceholderText: "#8a8a8a", _Role.Text: "#e6e6e6",
        _Role.Button: "#3a3a3a", _Role.ButtonText: "#e6e6e6", _Role.BrightText: "#ff6b6b",
        _Role.Light: "#505050", _Role.Midlight: "#424242", _Role.Mid: "#2a2a2a",
        _Role.Dark: "#1c1c1c", _Role.Shadow: "#0f0f0f", _Role.Highlight: "#2f6fb3",
        _Role.HighlightedText: "#ffffff", _Role.Link: "#6ab0f3", _Role.LinkVisited: "#c58af9",
    }, {
        _Role.WindowText: "#7a7a7a", _Role.Text: "#7a7a7a", _Role.ButtonText: "#7a7a7a",
        _Role.Base: "#2c2c2c", _Role.Button: "#303030", _Role.Highlight: "#4a4a4a",
        _Role.HighlightedText: "#a0a0a0",
    })


def is_dark(palette: QPalette) -> bool:
    """Return whether ``palette`` is a dark one (light text on a dark window)."""
    return palette.color(_Role.Window).lightness() < 128


class ThemeManager(QObject):
    """Apply the chosen theme to the application and keep it in step with the system.

    Signals:
        changed(str): the theme now in effect, "light" or "dark".
    """

    changed = Signal(str)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        value = QSettings().value(SETTINGS_KEY, "system")
        self.choice = value if value in dict(CHOICES) else "system"
        self.applied: str | None = None
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_changed)

    def system_is_dark(self) -> bool:
        """Return whether the platform asks for a dark scheme."""
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def effective(self) -> str:
        """Return "light" or "dark": the choice, with "system" resolved."""
        if self.choice == "system":
            return "dark" if self.system_is_dark() else "light"
        return self.choice

    def set_choice(self, choice: str) -> None:
        """Remember ``choice`` ("system", "light" or "dark") and apply it."""
        if choice not in dict(CHOICES):
            raise ValueError(f"unknown theme {choice!r}")
        self.choice = choice
        QSettings().setValue(SETTINGS_KEY, choice)
        self.apply()

    def apply(self) -> None:
        """Put the Fusion style and the theme's palette on the application."""
        theme = self.effective()
        if self._app.style().name().lower() != "fusion":
            self._app.setStyle("Fusion")
        self._app.setPalette(dark_palette() if theme == "dark" else light_palette())
        self.applied = theme
        self.changed.emit(theme)

    def _on_system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.choice == "system" and self.effective() != self.applied:
            self.apply()


_manager: ThemeManager | None = None


def theme_manager() -> ThemeManager:
    """Return the application's theme manager (made on first use; nothing applied yet)."""
    global _manager
    app = QApplication.instance()
    assert isinstance(app, QApplication), "a QApplication must exist"
    if _manager is None or _manager._app is not app:
        _manager = ThemeManager(app)
    return _manager


def install_theme() -> ThemeManager:
    """Apply the saved theme at start-up; return the manager."""
    manager = theme_manager()
    manager.apply()
    return manager


def add_theme_menu(menu: QMenu, parent: QWidget) -> QMenu:
    """Add View ▸ Theme (System / Light / Dark, one checked) to ``menu``."""
    manager = theme_manager()
    submenu = menu.addMenu("&Theme")
    group = QActionGroup(parent)
    group.setExclusive(True)
    for value, label in CHOICES:
        action = QAction(label, parent)
        action.setCheckable(True)
        action.setData(value)
        action.setChecked(value == manager.choice)
        action.triggered.connect(lambda _=False, v=value: manager.set_choice(v))
        group.addAction(action)
        submenu.addAction(action)
    return submenu
