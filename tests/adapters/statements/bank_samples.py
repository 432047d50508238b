"""Where the shared bank samples and validators are: ``../shared`` beside the project, or the
directory ``O2C_SHARED`` names. Tests that need them skip cleanly when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def shared() -> Path:
    """The shared directory (vectors and validators), wherever it is."""
    return Path(os.environ.get("O2C_SHARED") or ROOT.parent / "shared")
