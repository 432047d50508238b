"""Application services: the use cases of the cycle, orchestrating the domain and the ports.

Build :class:`Services` from :class:`Adapters` and :class:`Settings`; each command runs in one
unit of work under an idempotency key, and its journal entries, notifications and events go out
after it commits. :func:`retrying` runs a command again when it lost a race with another
process (the same idempotency key makes that safe).
"""

from o2c.services.context import Adapters, EventPublisher, OutOfStockPolicy, Settings
from o2c.services.errors import ApplicationError
from o2c.services.facade import Services
from o2c.services.retry import retrying

__all__ = [
    "Adapters",
    "ApplicationError",
    "EventPublisher",
    "OutOfStockPolicy",
    "Services",
    "Settings",
    "retrying",
]
