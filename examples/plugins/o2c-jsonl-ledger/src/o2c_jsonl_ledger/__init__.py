"""An o2c ledger adapter that appends journal entries to a JSON Lines file."""

from __future__ import annotations

from o2c_jsonl_ledger.ledger import JsonlLedger

__all__ = ["JsonlLedger"]
