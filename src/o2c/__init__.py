"""o2c: the order-to-cash cycle as a pure, typed domain core with pluggable adapters.

Start with :func:`bootstrap`, which builds an :class:`App` from configuration (the embedded
in-memory adapters by default) and gives you ``app.services``, the use cases of the cycle.
Plugins mark their hook implementations with :data:`hookimpl`.
"""

from __future__ import annotations

import pluggy

__all__ = ["App", "Config", "ConfigError", "Plugins", "__version__", "bootstrap", "hookimpl"]

__version__ = "0.1.0.dev0"

hookimpl = pluggy.HookimplMarker("o2c")
"""Marks a plugin's hook implementations: ``@o2c.hookimpl def o2c_register_adapters(...)``."""

# Imported after the marker on purpose: the built-in plugin uses ``o2c.hookimpl`` while these load.
from o2c.bootstrap import App, bootstrap  # noqa: E402
from o2c.config import Config, ConfigError  # noqa: E402
from o2c.plugins import Plugins  # noqa: E402
