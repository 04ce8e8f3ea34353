"""What the studio knows about speech models: character limits, stitching, credit cost.

Figures come from ``shared/spec/elevenlabs-api.md`` §4. The live ``GET /v1/models`` answer
overrides them where an engine reports its own (issue 3); these are the offline defaults used
for planning and cost estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OFFLINE_MODEL_ID = "offline-espeak"
DEFAULT_MODEL_ID = "eleven_multilingual_v2"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One speech model and the limits that shape planning."""

    model_id: str
    name: str
    max_characters: int
    supports_stitching: bool
    cost_multiplier: float
    engine: str = "elevenlabs"


MODELS: dict[str, ModelInfo] = {
    m.model_id: m
    for m in (
        ModelInfo("eleven_multilingual_v2", "Multilingual v2", 10_000, True, 1.0),
        # v3 accepts 10,000 characters, but long prompts are unreliable (spec §4.2, §19 #4):
        # plan chunks of at most 2,000.
        ModelInfo("eleven_v3", "Eleven v3", 2_000, False, 1.0),
        ModelInfo("eleven_flash_v2_5", "Flash v2.5", 40_000, True, 0.5),
        ModelInfo("eleven_flash_v2", "Flash v2", 30_000, True, 0.5),
        ModelInfo("eleven_turbo_v2_5", "Turbo v2.5", 40_000, True, 0.5),
        ModelInfo("eleven_turbo_v2", "Turbo v2", 30_000, True, 0.5),
        ModelInfo(OFFLINE_MODEL_ID, "Offline (espeak-ng)", 100_000, False, 0.0, engine="offline"),
    )
}


def model_info(model_id: str) -> ModelInfo:
    """Return what is known of ``model_id``; unknown ids get conservative defaults."""
    info = MODELS.get(model_id)
    if info is not None:
        return info
    return ModelInfo(model_id, model_id, 5_000, False, 1.0)


def estimate_credits(characters: int, model_id: str) -> int:
    """Return the credits ``characters`` of text cost with ``model_id`` (rounded up)."""
    return math.ceil(characters * model_info(model_id).cost_multiplier)
