"""The docs build reaches no network unless asked: intersphinx is opt-in, inventories local."""

from __future__ import annotations

import runpy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import pytest

pytest.importorskip("sphinx")

ROOT = Path(__file__).resolve().parents[1]
IntersphinxSetup = Callable[[Mapping[str, str]], dict[str, tuple[str, str | None]]]


@pytest.fixture(scope="module")
def intersphinx_setup() -> IntersphinxSetup:
    conf = runpy.run_path(str(ROOT / "docs" / "conf.py"))
    return cast(IntersphinxSetup, conf["intersphinx_setup"])


def test_by_default_intersphinx_is_off(intersphinx_setup: IntersphinxSetup) -> None:
    assert intersphinx_setup({}) == {}
    assert intersphinx_setup({"O2C_DOCS_ONLINE": "0"}) == {}


def test_online_fetches_the_inventories_from_the_sites(
    intersphinx_setup: IntersphinxSetup,
) -> None:
    mapping = intersphinx_setup({"O2C_DOCS_ONLINE": "1"})
    assert set(mapping) == {"python", "attrs"}
    assert all(inventory is None for _, inventory in mapping.values())


def test_local_inventories_are_read_and_never_fetched(
    intersphinx_setup: IntersphinxSetup, tmp_path: Path
) -> None:
    (tmp_path / "python.inv").write_bytes(b"# Sphinx inventory version 2\n")
    mapping = intersphinx_setup({"O2C_DOCS_INVENTORIES": str(tmp_path), "O2C_DOCS_ONLINE": "1"})
    assert mapping == {"python": ("https://docs.python.org/3", str(tmp_path / "python.inv"))}


def test_no_inventory_is_committed() -> None:
    assert not [path for path in (ROOT / "docs").rglob("*.inv") if "_build" not in path.parts]


def test_the_command_reference_is_generated_from_the_command_tree() -> None:
    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert ".. click:: o2c.cli.app:cli" in page
    assert ":nested: full" in page
    assert "cli" in (ROOT / "docs" / "reference" / "index.md").read_text(encoding="utf-8")
