"""``o2c.cli.main``: the console script's entry point, with and without the cli extra."""

from __future__ import annotations

import importlib.util

import pytest

import o2c.cli


def test_main_exits_with_the_commands_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        o2c.cli.main(["states", "receipt", "--json"])
    assert ended.value.code == 0
    assert '"receipt"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        o2c.cli.main(["states", "nope"])
    assert refused.value.code == 2


def test_main_says_how_to_install_the_extra_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "rich" else real(name)
    )
    with pytest.raises(SystemExit) as ended:
        o2c.cli.main(["demo"])
    assert ended.value.code == 2
    error = capsys.readouterr().err
    assert "rich not installed" in error
    assert "pip install 'o2c[cli]'" in error
