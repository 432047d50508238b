"""Every lifecycle of o2c in one read-only catalogue, and the page that documents them.

``docs/lifecycles.md`` is generated from :func:`markdown_page` (``scripts/generate_docs.py``), and
a test fails when the page and the code disagree, so the documented tables cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from o2c.domain.calls import EXTERNAL_CALL_LIFECYCLE
from o2c.domain.credit import CREDIT_ACCOUNT_LIFECYCLE
from o2c.domain.dunning import DUNNING_CASE_LIFECYCLE
from o2c.domain.invoicing import INVOICE_LIFECYCLE
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.orders import ORDER_LIFECYCLE
from o2c.domain.payments import PAYMENT_LIFECYCLE
from o2c.domain.quotes import QUOTE_LIFECYCLE
from o2c.domain.receipts import RECEIPT_LIFECYCLE

__all__ = ["LIFECYCLES", "markdown_page"]

#: Every lifecycle by the name the documentation and the command line use, in cycle order.
LIFECYCLES: Mapping[str, Lifecycle[Any, Any]] = MappingProxyType(
    {
        "quote": QUOTE_LIFECYCLE,
        "order": ORDER_LIFECYCLE,
        "credit-account": CREDIT_ACCOUNT_LIFECYCLE,
        "invoice": INVOICE_LIFECYCLE,
        "payment": PAYMENT_LIFECYCLE,
        "receipt": RECEIPT_LIFECYCLE,
        "dunning-case": DUNNING_CASE_LIFECYCLE,
        "external-call": EXTERNAL_CALL_LIFECYCLE,
    }
)


def markdown_page() -> str:
    """The lifecycles documentation page: per lifecycle its diagram and its table.

    The diagram is a ``lifecycle-diagram`` directive, which the documentation build draws from
    the same table (``docs/_ext/lifecycle_diagrams.py``).
    """
    parts = [
        "# Lifecycles",
        "",
        "<!-- Generated from the code by scripts/generate_docs.py; do not edit by hand. -->",
        "",
        "Every entity that moves through the cycle has a lifecycle: a state enum, a trigger",
        "enum and a read-only table of allowed transitions (`o2c.domain.lifecycle.Lifecycle`).",
        "A trigger the table does not allow raises `IllegalTransition`, naming the entity, its",
        "state, the trigger and what is allowed, and changes nothing. The tables below are",
        "printed from the code.",
    ]
    for name, lifecycle in LIFECYCLES.items():
        finals = ", ".join(f"`{_label(s)}`" for s in lifecycle.final_states) or "none"
        parts += [
            "",
            f"## {name}",
            "",
            f"Starts in `{_label(lifecycle.initial)}`; final states: {finals}.",
            "",
            f"```{{lifecycle-diagram}} {name}",
            "```",
            "",
            lifecycle.markdown(),
        ]
    return "\n".join(parts) + "\n"


def _label(state: Any) -> str:
    value = state.value
    return value if isinstance(value, str) else str(state.name).lower()
