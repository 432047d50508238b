"""Keeping card numbers out of what o2c says: messages, errors and their ``repr``.

o2c never needs a card number (gateways hand it tokens), yet one can still arrive by mistake: a
card number typed where a payment token belongs, or echoed back in a gateway's message. Every
error that carries text from outside (adapter, plugin and gateway errors) passes that text
through :func:`mask_card_numbers` before storing it, so the number never reaches a log.
"""

from __future__ import annotations

import re

__all__ = ["mask_card_numbers", "masked_text"]

# 13 to 19 digits, optionally grouped by single spaces or hyphens, not part of a longer word.
_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])")


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _masked(match: re.Match[str]) -> str:
    text = match.group()
    digits = text.replace(" ", "").replace("-", "")
    if not _passes_luhn(digits):
        return text  # an order number, an account: not a card
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number (a Luhn-valid run of 13-19 digits) masked to its last four.

    >>> mask_card_numbers("token 4111 1111 1111 1111 refused")
    'token ************1111 refused'
    >>> mask_card_numbers("order SO-1234567890123")
    'order SO-1234567890123'
    """
    return _CANDIDATE.sub(_masked, text)


def masked_text(value: object) -> str:
    """``value`` as text with card numbers masked: the converter of error messages."""
    return mask_card_numbers(value if isinstance(value, str) else str(value))
