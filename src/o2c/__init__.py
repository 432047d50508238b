"""o2c: the order-to-cash cycle as a pure, typed domain core with pluggable adapters."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
