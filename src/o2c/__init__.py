"""o2c: the order-to-cash cycle as a pure, typed domain core with pluggable adapters.

Start with :func:`bootstrap`, which builds an :class:`App` from configuration (the embedded
in-memory adapters by default) and gives you ``app.services``, the use cases of the cycle.
Plugins mark their hook implementations with :data:`hookimpl`.
"""

from __future__ import annotations

__all__ = ["App", "Config", "ConfigError", "Plugins", "__version__", "bootstrap", "hookimpl"]

__version__ = "0.1.0.dev0"

from o2c.bootstrap import App, bootstrap
from o2c.config import Config, ConfigError
from o2c.plugins import Plugins
from o2c.ports.hookspecs import hookimpl
