"""The payment gateway port: card and wallet payments, and webhooks turned into facts."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money

__all__ = [
    "DEFAULT_WEBHOOK_TOLERANCE",
    "GatewayCapabilities",
    "GatewayNotice",
    "GatewayResponse",
    "NoticeKind",
    "PaymentGatewayPort",
    "ResponseStatus",
    "WebhookSecret",
]

DEFAULT_WEBHOOK_TOLERANCE = timedelta(minutes=5)
"""How old a webhook's signed timestamp may be before the delivery is refused as a replay."""


def _secret_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


@attrs.frozen(repr=False, eq=False)
class WebhookSecret:
    """The key a gateway signs its webhooks with; it never shows in a ``repr`` or ``str``.

    Keep the secret in one of these from the moment it is read, so that logging the adapter, its
    configuration or an error never prints it; :meth:`reveal` gives the bytes to the code that
    signs or verifies.
    """

    _value: bytes = attrs.field(converter=_secret_bytes, alias="value")

    def __attrs_post_init__(self) -> None:
        if not self._value:
            raise InvalidInput(field="webhook secret", value="", reason="must not be empty")

    def reveal(self) -> bytes:
        """The secret itself, for computing a signature."""
        return self._value

    def __repr__(self) -> str:
        return "WebhookSecret('<redacted>')"

    __str__ = __repr__


@attrs.frozen
class GatewayCapabilities:
    """What a gateway can do; the contract kit and the services read this, never guess."""

    currencies: frozenset[str]
    partial_capture: bool = True
    multiple_captures: bool = False
    refunds: bool = True
    partial_refunds: bool = True
    voids: bool = True
    webhooks: bool = True
    """Whether the gateway reports facts by signed webhooks (``parse_webhook`` reads them)."""


class ResponseStatus(enum.Enum):
    """How a gateway answered a call."""

    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    """No answer (a timeout): the outcome must be fetched later with ``fetch_status``."""


@attrs.frozen
class GatewayResponse:
    """A gateway's answer to one call."""

    status: ResponseStatus
    idempotency_key: str
    gateway_reference: str | None = None
    amount: Money | None = None
    """What the gateway approved (may be less than asked for a partial authorisation)."""
    decline_code: str | None = None
    message: str = ""


class NoticeKind(enum.Enum):
    """What a gateway notification reports."""

    AUTHORISED = "authorised"
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    CHARGED_BACK = "charged_back"


@attrs.frozen
class GatewayNotice:
    """A fact reported by a gateway webhook, with the gateway's own event id for idempotency."""

    event_id: str
    kind: NoticeKind
    gateway_reference: str
    amount: Money
    at: datetime


@runtime_checkable
class PaymentGatewayPort(Protocol):
    """A card or wallet payment gateway.

    Contract:

    * Every call carries an idempotency key; repeating a call with the same key returns the
      first response and moves no money. The same key with a different request raises
      ``DuplicateRequest``.
    * A decline is a ``DECLINED`` response, not an exception. A network failure after which the
      outcome is not known is an ``UNKNOWN`` response (resolve it with ``fetch_status``); a
      failure before the request left is ``AdapterUnavailable``.
    * Capture never exceeds the authorisation and refunds never exceed what was captured: the
      gateway declines (``DECLINED`` with a decline code) rather than moving more money.
    * A currency outside ``capabilities.currencies`` raises ``AdapterRejected``.
    * ``fetch_status`` is the status lookup: the first response of the call made under a key
      (``UNKNOWN`` while still pending); ``NotFound`` if no call under the key reached the gateway.
    * ``parse_webhook`` turns a raw payload (the request body, ``bytes``) into notices. A payload
      that is not ``bytes``, headers that are not a mapping, a missing, malformed (non-ASCII, say)
      or wrong signature, and a malformed body all raise ``AdapterRejected`` and yield nothing;
      no other exception escapes.
    * Every webhook is signed together with the time it was sent, and a delivery signed longer
      ago than the gateway's tolerance (by default :data:`DEFAULT_WEBHOOK_TOLERANCE`, five
      minutes), or as far in the future, is refused with ``AdapterRejected``: a captured
      delivery cannot be replayed later. "Now" is the adapter's injected clock.
    * The signing secret is never shown: not in the adapter's ``repr``, not in an error
      (:class:`WebhookSecret` holds it), and a card number is never echoed in an error message.
    """

    name: str
    capabilities: GatewayCapabilities

    def authorise(
        self, *, payment_id: str, amount: Money, payment_token: str, idempotency_key: str
    ) -> GatewayResponse:
        """Reserve ``amount`` on the customer's card or wallet."""
        ...

    def capture(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Take (part of) an authorised amount."""
        ...

    def void(self, *, gateway_reference: str, idempotency_key: str) -> GatewayResponse:
        """Cancel an authorisation that was not captured."""
        ...

    def refund(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Give back (part of) a captured amount."""
        ...

    def fetch_status(self, idempotency_key: str) -> GatewayResponse:
        """The final outcome of an earlier call, by its idempotency key."""
        ...

    def parse_webhook(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[GatewayNotice, ...]:
        """The facts a webhook delivery reports, once its signature and age are checked."""
        ...
