#!/usr/bin/env bash
# Set up everything Narrator Studio needs, then open the studio or run the tests.
#
#   bash packaging/setup.sh run  [studio args]   # set up, open the sample book (offline engine)
#   bash packaging/setup.sh test [pytest args]   # set up, lint, type-check, run the test suite
#
# Installs only what is missing: the Debian libraries Qt and PortAudio need (apt-get, as root
# or through sudo), a virtual environment in .venv, and the Python packages (re-installed
# only when pyproject.toml changes). Safe to run again and again.
set -euo pipefail

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
  run|test) ;;
  *) echo "usage: bash packaging/setup.sh run|test [args...]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
root=$PWD
venv=${STUDIO_VENV:-$root/.venv}
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- Debian libraries ------------------------------------------------------------------------
# Offscreen Qt (tests) needs EGL/GL, fontconfig, xkbcommon, glib, dbus; PortAudio is for
# playback; a real window needs the xcb plugin's libraries.
debs=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 libportaudio2)
if [ "$mode" = run ]; then
  debs+=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
         libxcb-shape0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1)
fi

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  py=$(pick_python || true)
  if [ -n "$py" ] && [ ! -x "$venv/bin/python" ] && ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=("python3-venv")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else sudo=(none); fi
  if [ "${sudo[0]:-}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: ${missing[*]} (install them with your package manager)"
  else
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- Python environment ------------------------------------------------------------------------
py=$(pick_python) || { echo "Narrator Studio needs Python 3.11 or newer (python3 --version)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  say "creating virtual environment in $venv"
  "$py" -m venv "$venv"
fi
stamp="$venv/.studio-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing Python packages (first run takes a minute)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

# --- Go ---------------------------------------------------------------------------------------
if [ "$mode" = run ]; then
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "No display found. Run this from a desktop session, or under a virtual screen:" >&2
    echo "  xvfb-run -a bash packaging/setup.sh run" >&2
    exit 1
  fi
  say "opening the sample book"
  exec "$venv/bin/studio" --sample "$@"
fi

say "lint (ruff) and types (mypy)"
"$venv/bin/ruff" check studio tests benchmarks
"$venv/bin/mypy" studio/core
say "tests"
exec "$venv/bin/python" -m pytest "$@"
