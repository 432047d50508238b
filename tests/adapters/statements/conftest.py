"""Where the shared bank samples are: ``../shared/vectors/bank`` beside the project (or the
directory ``O2C_SHARED`` names); tests that need them skip cleanly when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def shared() -> Path:
    """The shared directory (vectors and validators), wherever it is."""
    return Path(os.environ.get("O2C_SHARED") or ROOT.parent / "shared")


@pytest.fixture
def bank_vectors() -> Path:
    path = shared() / "vectors" / "bank"
    if not path.is_dir():
        pytest.skip("the shared bank samples are not here")
    return path
