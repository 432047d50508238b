"""The one family of errors that adapters raise, whatever went wrong inside them.

An adapter translates its own failures (a driver exception, an HTTP status, a file error) into one
of these, so that application services can decide what to do without knowing the adapter:

* :class:`AdapterUnavailable`: try again later (a timeout, a connection refused, a lock);
* :class:`AdapterRejected`: the request itself was refused and will be refused again;
* :class:`DuplicateRequest`: the same idempotency key was already used for a different request.

:class:`PluginError` is raised by o2c itself when a plugin raises something outside this family
or returns a value that does not satisfy its port; it always names the plugin.

Both families descend from :class:`~o2c.domain.errors.O2CError`, the root of every o2c error.
"""

from __future__ import annotations

import attrs

from o2c.domain.errors import O2CError
from o2c.domain.redaction import masked_text

__all__ = [
    "AdapterError",
    "AdapterRejected",
    "AdapterUnavailable",
    "DuplicateRequest",
    "NotFound",
    "PluginError",
]


@attrs.frozen
class AdapterError(O2CError):
    """Base of every error an adapter raises."""

    adapter: str
    """The name the adapter is registered under."""
    message: str = attrs.field(converter=masked_text)
    """What went wrong; a card number in it is masked to its last four digits."""

    retryable: bool = attrs.field(default=False, init=False)

    def __str__(self) -> str:
        return f"{self.adapter}: {self.message}"


@attrs.frozen
class AdapterUnavailable(AdapterError):
    """A temporary failure: the same call may succeed later."""

    retryable: bool = attrs.field(default=True, init=False)


@attrs.frozen
class AdapterRejected(AdapterError):
    """A permanent refusal of this request (a declined card, an unknown product, a bad address)."""

    code: str | None = None
    """The adapter's machine-readable reason, when it has one."""


@attrs.frozen
class DuplicateRequest(AdapterError):
    """An idempotency key or id reused for a request with different content."""

    key: str = ""


@attrs.frozen
class NotFound(AdapterError):
    """What was asked for does not exist in the adapter (an unknown id)."""

    key: str = ""


@attrs.frozen
class PluginError(O2CError):
    """A plugin misbehaved: it raised outside the adapter error family or returned nonsense."""

    plugin: str
    hook: str
    message: str = attrs.field(converter=masked_text)

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.message}"
