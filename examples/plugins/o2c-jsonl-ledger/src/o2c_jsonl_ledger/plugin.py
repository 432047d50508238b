"""The plugin o2c loads from the ``o2c`` entry-point group: it registers the ledger adapter.

Choose it in configuration::

    [adapters.ledger]
    use = "jsonl-ledger"
    options = { path = "books/journal.jsonl" }
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import o2c
from o2c.domain.errors import InvalidInput
from o2c.domain.ledger import ChartOfAccounts
from o2c.ports.registry import AdapterRegistry
from o2c_jsonl_ledger.ledger import JsonlLedger

__all__ = ["make_ledger", "o2c_register_adapters"]

NAME = "jsonl-ledger"


@o2c.hookimpl
def o2c_register_adapters(registry: AdapterRegistry) -> None:
    """Offer the JSON Lines ledger under the name ``jsonl-ledger``."""
    registry.add_ledger(NAME, make_ledger, "journal entries appended to a JSON Lines file")


def make_ledger(options: Mapping[str, Any], *, chart: ChartOfAccounts | None = None) -> JsonlLedger:
    """Build the ledger from its options: ``path`` (required) and ``fsync`` (default true).

    ``chart`` is filled in by o2c with the configured chart of accounts. A bad option raises
    ``InvalidInput``, which o2c reports as a configuration error naming the option.
    """
    unknown = sorted(set(options) - {"path", "fsync"})
    if unknown:
        raise InvalidInput(field=f"{NAME} option", value=unknown[0], reason="known: path, fsync")
    path = options.get("path")
    if not isinstance(path, str | Path) or not str(path):
        raise InvalidInput(field="path", value=repr(path), reason="the journal file is required")
    fsync = options.get("fsync", True)
    if not isinstance(fsync, bool):
        raise InvalidInput(field="fsync", value=repr(fsync), reason="must be true or false")
    return JsonlLedger(Path(path), chart, fsync=fsync, name=NAME)
