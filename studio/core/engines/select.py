"""Choose and build the engine a command or the window uses."""

from __future__ import annotations

from studio.core.engines import Engine, EngineUnavailable
from studio.core.settings import AppSettings, resolve_api_key, resolve_base_url

#: Requests in flight per plan for Multilingual v2 / v3 (spec §4.4); Flash/Turbo allow twice.
PLAN_CONCURRENCY = {
    "free": 2, "starter": 3, "creator": 5, "pro": 10, "scale": 15, "business": 15,
}


def choose_engine(requested: str | None, settings: AppSettings) -> tuple[str, str]:
    """Return the engine name to use and a sentence saying why."""
    wanted = requested or settings.engine
    key, source = resolve_api_key(settings)
    if wanted in (None, "", "auto"):
        if key:
            return "elevenlabs", f"ElevenLabs (API key from the {source})"
        return "offline", "the offline engine (espeak-ng): no ElevenLabs API key is configured"
    if wanted == "elevenlabs":
        return "elevenlabs", f"ElevenLabs (API key from the {source})" if key else "ElevenLabs"
    if wanted == "offline":
        return "offline", "the offline engine (espeak-ng)"
    raise EngineUnavailable(f"unknown engine '{wanted}' (use 'elevenlabs' or 'offline')")


def build_engine(name: str, settings: AppSettings, *, for_render: bool = False) -> Engine:
    """Return a ready engine called ``name``."""
    if name == "offline":
        from studio.core.engines.offline import OfflineEngine

        return OfflineEngine()
    if name == "elevenlabs":
        from studio.core.engines.elevenlabs import ElevenLabsEngine

        key, _ = resolve_api_key(settings)
        if not key:
            from studio.core.engines import AuthError

            raise AuthError(
                "No ElevenLabs API key is configured: set ELEVENLABS_API_KEY, store one in the "
                "OS keyring from Settings, or use --engine offline."
            )
        # In a render the scheduler handles "too many concurrent requests" itself (it lowers
        # its parallelism), so the client must not retry those behind its back.
        return ElevenLabsEngine(key, resolve_base_url(settings), retry_concurrency=not for_render)
    raise EngineUnavailable(f"unknown engine '{name}' (use 'elevenlabs' or 'offline')")
