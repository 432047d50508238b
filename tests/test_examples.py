"""Every example under examples/ runs to completion: the examples are reference code, never rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.joinpath("examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "an example should show what it did"


def test_demo_prints_a_priced_order_with_an_exact_schedule() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "price_an_order.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "gross total      1,794.59 EUR" in result.stdout
    assert "NOT the gross total" not in result.stdout
    assert result.stdout.count("exactly the gross total") == 5
