"""Payment references and payer accounts: how customers name what they pay, and from where.

Every issued invoice carries a **structured creditor reference** (ISO 11649, ``RF`` followed by
two check digits and up to 21 letters or digits). o2c derives it from the invoice number
(:func:`creditor_reference`): the number's letters and digits, check digits in front. It is
therefore stable (the same number always gives the same reference), unique among invoices whose
numbers differ in letters or digits, and readable back to the number it came from.

The check digits are those of ISO 7064 MOD 97-10, the same arithmetic IBANs use: move the first
four characters to the end, read letters as numbers (``A`` = 10 … ``Z`` = 35) and the remainder
by 97 must be 1. :func:`is_creditor_reference` checks it, so cash application can tell a
reference the payer typed correctly from one with a slip: a reference whose check digits do not
hold is never taken as an exact match.

National reference schemes (the Finnish, Swiss QR or Norwegian KID references, say) are not
built in; a scheme is a pair of functions like :func:`creditor_reference` and
:func:`is_creditor_reference`, and the place to add one is here.

Payer accounts are compared in one form on both sides (:func:`normalise_account`): without
spaces, upper case. :func:`is_iban` tells whether such an account is a well-formed IBAN.
"""

from __future__ import annotations

import re

from o2c.domain.errors import InvalidInput

__all__ = [
    "CREDITOR_REFERENCE_PREFIX",
    "MAX_CREDITOR_REFERENCE",
    "creditor_reference",
    "format_creditor_reference",
    "is_creditor_reference",
    "is_iban",
    "normalise_account",
    "normalise_payer_name",
    "reference_body",
]

CREDITOR_REFERENCE_PREFIX = "RF"
MAX_CREDITOR_REFERENCE = 25
"""The longest creditor reference: ``RF``, two check digits and up to 21 characters."""

_BODY = re.compile(r"[0-9A-Z]{1,21}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_WHITESPACE = re.compile(r"\s+")


def _as_digits(text: str) -> str:
    """Letters as their numbers (``A`` = 10 … ``Z`` = 35), digits as they are."""
    return "".join(str(int(char, 36)) for char in text)


def _mod97(text: str) -> int:
    return int(_as_digits(text)) % 97


def reference_body(number: str) -> str:
    """What of a document number goes into its creditor reference: letters and digits, upper
    case (``INV-000042`` → ``INV000042``). :class:`InvalidInput` if nothing or too much is left.
    """
    body = _NOT_ALNUM.sub("", number).upper()
    if not body.isascii() or _BODY.fullmatch(body) is None:
        raise InvalidInput(
            field="document number",
            value=number,
            reason="a creditor reference needs 1 to 21 letters or digits (A-Z, 0-9)",
        )
    return body


def creditor_reference(number: str) -> str:
    """The ISO 11649 creditor reference of a document number, in electronic form (no spaces).

    ``creditor_reference("INV-000042")`` is ``RF29INV000042``. Deterministic: the same number
    always gives the same reference.
    """
    body = reference_body(number)
    check = 98 - _mod97(body + CREDITOR_REFERENCE_PREFIX + "00")
    return f"{CREDITOR_REFERENCE_PREFIX}{check:02d}{body}"


def is_creditor_reference(text: str) -> bool:
    """Whether ``text`` is an ISO 11649 creditor reference whose check digits hold.

    Spaces and case do not matter (``rf29 INV0 0004 2`` counts); anything else must be a letter
    or a digit.
    """
    compact = _WHITESPACE.sub("", text).upper()
    if not compact.isascii() or len(compact) < 5 or len(compact) > MAX_CREDITOR_REFERENCE:
        return False
    if not compact.startswith(CREDITOR_REFERENCE_PREFIX) or not compact[2:4].isdigit():
        return False
    body = compact[4:]
    if _BODY.fullmatch(body) is None:
        return False
    return _mod97(body + compact[:4]) == 1


def format_creditor_reference(reference: str) -> str:
    """A creditor reference in print form: groups of four (``RF29 INV0 0004 2``)."""
    compact = _WHITESPACE.sub("", reference).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def normalise_account(account: str) -> str:
    """A bank account as o2c compares it: no whitespace, upper case.

    ``DE02 1203 0000 0000 2020 51`` and ``de02120300000000202051`` are the same account. Both
    the accounts customers register and those on bank statements are compared in this form.
    """
    return _WHITESPACE.sub("", account).upper()


def normalise_payer_name(name: str) -> str:
    """A payer's name as o2c compares it: upper case, single spaces (``acme  Trading`` →
    ``ACME TRADING``)."""
    return " ".join(name.upper().split())


def is_iban(account: str) -> bool:
    """Whether ``account`` (any spacing and case) is a well-formed IBAN: a country code, two
    check digits, 11 to 30 letters or digits, and the MOD 97-10 check holds.

    Country-specific lengths are not checked; an account that is not an IBAN (a domestic account
    number, a card token) is still a payer account, compared as it is.
    """
    compact = normalise_account(account)
    if not compact.isascii() or _IBAN.fullmatch(compact) is None:
        return False
    return _mod97(compact[4:] + compact[:4]) == 1
