"""Fixtures of the statement reader tests: the shared bank samples, when they are here."""

from __future__ import annotations

from pathlib import Path

import pytest
from bank_samples import shared


@pytest.fixture
def bank_vectors() -> Path:
    path = shared() / "vectors" / "bank"
    if not path.is_dir():
        pytest.skip("the shared bank samples are not here")
    return path
