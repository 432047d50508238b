"""Matching receipts to open items: the matching index and the ladder of rules.

Cash application asks, for each receipt, "which open items did the payer mean to pay?". The answer
comes from a *ladder*: an ordered tuple of small rules, each looking at the receipt and the open
items from one angle and either proposing items (with a confidence and an explanation a person can
read) or passing. The first confident proposal wins; weaker ones become ranked suggestions for the
person who handles the exception queue. The default ladder, in order:

1. :class:`StructuredReferenceRule`: the receipt's structured reference, or an id found in the
   remittance text, is exactly an item's number, creditor reference or a known alias (a payment
   intent id). A creditor reference (``RF…``) counts only if its check digits hold.
2. :class:`ExactAmountRule`: the payer is a known customer and exactly one of its open items has the
   receipt's amount open.
3. :class:`CombinationRule`: a known customer paid several of its open items in one amount (a
   bounded subset sum over its oldest items).
4. :class:`DiscountRule`: a known customer paid an item's discounted amount within the discount
   window.
5. :class:`FuzzyReferenceRule`: a reference with a typo, a missing prefix or missing leading zeros,
   scored by edit distance, where the amount is plausible for the item.

Users can reorder, drop or add rules: any object with a ``name`` and a ``match`` method satisfying
:class:`MatchingRule` fits.

:class:`MatchingIndex` makes this fast: built once per run from the open items, it answers every
question a rule asks by dictionary lookups (by reference, by reference core, by customer oldest
first, by customer and open amount, by customer and discounted amount) and is updated as items are
paid, so no rule ever scans all open items. Amounts inside the index are integers of minor units.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol, TypeVar

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import EXACT, Money, decimals_of, minor_units
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.receivables import OpenItem
from o2c.domain.references import (
    is_creditor_reference,
    normalise_account,
    normalise_payer_name,
)

__all__ = [
    "DEFAULT_LADDER",
    "CombinationRule",
    "DiscountRule",
    "ExactAmountRule",
    "FuzzyReferenceRule",
    "MatchContext",
    "MatchingConfig",
    "MatchingIndex",
    "MatchingRule",
    "PayerDirectory",
    "Proposal",
    "StructuredReferenceRule",
    "Suggestion",
    "WriteOffTolerance",
    "is_broken_creditor_reference",
    "normalize_reference",
    "reference_core",
    "reference_tokens",
    "similarity",
]

# Confidences and similarities are ratios, not money; they still never use the ambient context.
_RATIO_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_DOWN)
_RATIO_PLACES = Decimal("0.0001")
ONE = Decimal(1)
ZERO = Decimal(0)


_K = TypeVar("_K")


def _ratio(numerator: int, denominator: int) -> Decimal:
    quotient = _RATIO_CONTEXT.divide(Decimal(numerator), Decimal(denominator))
    return quotient.quantize(_RATIO_PLACES, context=_RATIO_CONTEXT)


# --- references ---------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9A-Z]")
# RF, check digits, then groups of up to four; a group must hold a digit, so words stay out.
_CREDITOR_REFERENCE = re.compile(r"\bRF\d{2}(?:\s?(?=[A-Z]{0,3}\d)[0-9A-Z]{1,4}\b)+")
_SEPARATORS = re.compile(r"[\s,;:()\[\]]+")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_ALPHANUMERIC = _DIGITS + _LETTERS
_MAX_TOKENS = 8
_MIN_CORE = 3
_MAX_CORE = 20


def normalize_reference(text: str) -> str:
    """A reference as compared: upper case, letters and digits only (``inv-00 12``: ``INV0012``)."""
    upper = text.upper()
    if upper.isalnum() and upper.isascii():
        return upper
    return _NON_ALNUM.sub("", upper)


def is_broken_creditor_reference(normalized: str) -> bool:
    """Whether a normalized reference has the form of an ISO 11649 creditor reference (``RF``
    and two digits, then more) but its check digits do not hold: the payer made a slip somewhere,
    so it may resemble an item but never names one exactly."""
    return (
        len(normalized) > 4
        and normalized.startswith("RF")
        and normalized[2:4].isdigit()
        and not is_creditor_reference(normalized)
    )


def reference_core(normalized: str) -> str:
    """What survives a sloppy payer: no ``RFnn`` check digits, no leading letters, no leading zeros.

    ``INV0012345``, ``0012345`` and ``RF4712345`` all have the core ``12345``.
    """
    core = normalized
    if len(core) > 4 and core.startswith("RF") and core[2:4].isdigit():
        core = core[4:]
    return core.lstrip(_LETTERS).lstrip("0")


def reference_tokens(text: str) -> tuple[str, ...]:
    """Normalized candidate references in free remittance text, in order of appearance.

    A candidate holds at least one digit and three characters; creditor references printed in
    groups (``RF18 5390 0754``) are joined, and a word followed by a number (``INV 0042``) is also
    tried as one. At most eight candidates are returned so hostile text cannot slow matching down.
    """
    upper = text.upper()
    found: list[str] = [normalize_reference(m.group()) for m in _CREDITOR_REFERENCE.finditer(upper)]
    previous = ""
    for piece in _SEPARATORS.split(upper):
        token = _NON_ALNUM.sub("", piece)
        if not token:
            continue
        if any(ch.isdigit() for ch in token):
            if previous.isalpha():
                found.append(previous + token)
            if len(token) >= _MIN_CORE:
                found.append(token)
        previous = token
    unique = tuple(dict.fromkeys(found))
    return unique[:_MAX_TOKENS]


def _edit_distance(left: str, right: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition counts once); ``limit + 1`` if above."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous_row: list[int] = []
    row = list(range(len(right) + 1))
    for i, char in enumerate(left, start=1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(right)
        for j, other in enumerate(right, start=1):
            # min() of the three moves, written out: this is the innermost loop of fuzzy matching
            diagonal = previous_row[j - 1] if char == other else previous_row[j - 1] + 1
            up, across = previous_row[j] + 1, row[j - 1] + 1
            best = up if up < across else across
            best = diagonal if diagonal < best else best
            if i > 1 and j > 1 and char == right[j - 2] and left[i - 2] == other:
                swap = before[j - 2] + 1
                best = swap if swap < best else best
            row[j] = best
        if min(row) > limit:
            return limit + 1
    return row[-1]


def similarity(left: str, right: str) -> Decimal:
    """How alike two references are, 0 to 1: one minus the edit distance over the longer length.

    Both are normalized first; a transposition of two neighbours counts as one edit.
    """
    a, b = normalize_reference(left), normalize_reference(right)
    longest = max(len(a), len(b))
    if longest == 0:
        return ZERO
    distance = _edit_distance(a, b, longest)
    return _ratio(longest - distance, longest)


def _one_edit_away(core: str) -> Iterator[str]:
    """Every string one deletion, transposition, substitution or insertion away from ``core``."""
    alphabet = _DIGITS if core.isdigit() else _ALPHANUMERIC
    size = len(core)
    for i in range(size):
        yield core[:i] + core[i + 1 :]
    for i in range(size - 1):
        yield core[:i] + core[i + 1] + core[i] + core[i + 2 :]
    for i in range(size):
        head, tail = core[:i], core[i + 1 :]
        for char in alphabet:
            if char != core[i]:
                yield head + char + tail
    for i in range(size + 1):
        head, tail = core[:i], core[i:]
        for char in alphabet:
            yield head + char + tail


# --- configuration ------------------------------------------------------------------------------


def _non_negative(
    _: object, attribute: attrs.Attribute[Decimal | None], value: Decimal | None
) -> None:
    if value is not None and value < 0:
        raise InvalidInput(field=attribute.name, value=str(value), reason="must not be negative")


def _unit_interval(_: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not ZERO <= value <= ONE:
        raise InvalidInput(field=attribute.name, value=str(value), reason="must be within 0..1")


@attrs.frozen
class WriteOffTolerance:
    """How short a payment may be and still settle its item, the rest written off.

    Every limit that is set must hold: with ``absolute=1.00 EUR`` and ``percent=1`` a shortfall of
    0.80 on a 50.00 invoice (1.6 %) stays open. An absolute limit applies only to receipts in its
    currency (a receipt in another currency is judged by the percentage alone, if one is set). With
    no limit set (the default) nothing is ever written off.
    """

    absolute: Money | None = None
    percent: Decimal | None = attrs.field(default=None, validator=_non_negative)
    reason: str = "short_payment"

    def __attrs_post_init__(self) -> None:
        if self.absolute is not None and self.absolute.amount < 0:
            raise InvalidInput(field="absolute", value=str(self.absolute), reason="negative")
        if not self.reason:
            raise InvalidInput(field="reason", value="", reason="a write-off needs a reason code")

    def allows(self, shortfall_minor: int, open_minor: int, currency: str) -> bool:
        """Whether a shortfall (in minor units) on an item with ``open_minor`` open may go."""
        if shortfall_minor <= 0:
            return shortfall_minor == 0
        absolute_ok = percent_ok = None
        if self.absolute is not None and self.absolute.currency.code == currency:
            limit = minor_units(self.absolute.amount, decimals_of(currency))
            absolute_ok = shortfall_minor <= limit
        if self.percent is not None:
            percent_ok = shortfall_minor * 100 <= EXACT.multiply(self.percent, open_minor)
        if absolute_ok is None and percent_ok is None:
            return False
        return absolute_ok is not False and percent_ok is not False


@attrs.frozen
class MatchingConfig:
    """The knobs of cash application; the defaults suit most bank statements."""

    min_confidence: Decimal = attrs.field(default=Decimal("0.80"), validator=_unit_interval)
    """A proposal below this is not applied; it becomes a suggestion for a person."""
    fuzzy_threshold: Decimal = attrs.field(default=Decimal("0.80"), validator=_unit_interval)
    """The least similarity a fuzzy reference needs to count at all."""
    fuzzy_margin: Decimal = attrs.field(default=Decimal("0.05"), validator=_unit_interval)
    """How far the best fuzzy candidate must lead the next one; closer means ambiguous."""
    combination_candidates: int = 20
    """How many of the customer's oldest open items a combination may draw on."""
    combination_size: int = 4
    """The largest number of items one combined payment may settle (2 to 4; below 2: off)."""
    suggestions: int = 5
    """How many ranked suggestions an exception or on-account receipt carries."""
    tolerance: WriteOffTolerance = WriteOffTolerance()
    on_account_when_customer_known: bool = True
    """Unmatched cash of a known customer goes on account; otherwise it waits in the queue."""

    def __attrs_post_init__(self) -> None:
        for name in ("combination_candidates", "combination_size", "suggestions"):
            if getattr(self, name) < 0:
                raise InvalidInput(field=name, value=str(getattr(self, name)), reason="negative")
        if self.combination_size > 4:
            raise InvalidInput(
                field="combination_size", value=str(self.combination_size), reason="at most 4"
            )


@attrs.frozen
class PayerDirectory:
    """Who a payer is when the receipt does not say: bank accounts and names of known customers."""

    accounts: Mapping[str, str] = attrs.field(factory=dict, converter=MappingProxyType)
    """Payer account (an IBAN...) -> customer id; compared in
    :func:`~o2c.domain.references.normalise_account` form (no spaces, upper case)."""
    names: Mapping[str, str] = attrs.field(factory=dict, converter=MappingProxyType)
    """Payer name -> customer id; compared in
    :func:`~o2c.domain.references.normalise_payer_name` form (upper case, single spaces)."""


# --- proposals ----------------------------------------------------------------------------------


@attrs.frozen
class Proposal:
    """What a rule proposes: these items, in this order, with this confidence, for this reason."""

    rule: str
    item_ids: tuple[str, ...]
    confidence: Decimal = attrs.field(validator=_unit_interval)
    explanation: str

    def __attrs_post_init__(self) -> None:
        if not self.item_ids:
            raise InvalidInput(field="proposal", value=self.rule, reason="proposes no item")


@attrs.frozen
class Suggestion:
    """A candidate item for a receipt a person has to look at, with a score and the reason."""

    item_id: str
    score: Decimal = attrs.field(validator=_unit_interval)
    reason: str


class MatchContext:
    """What the engine knows about the receipt being matched, worked out once for all rules.

    A per-receipt scratch view: the payer's customer (if known), the currency, the amount still to
    apply in minor units, the configuration, and the reference candidates of the remittance text
    (computed on first use).
    """

    __slots__ = ("_tokens", "amount_minor", "config", "currency", "customer_id", "receipt")

    def __init__(
        self,
        receipt: Receipt,
        customer_id: str | None,
        currency: str,
        amount_minor: int,
        config: MatchingConfig,
    ) -> None:
        self.receipt = receipt
        self.customer_id = customer_id
        self.currency = currency
        self.amount_minor = amount_minor
        self.config = config
        self._tokens: tuple[str, ...] | None = None

    def tokens(self) -> tuple[str, ...]:
        """Normalized reference candidates: the structured reference first, then remittance ids."""
        if self._tokens is None:
            found = reference_tokens(self.receipt.remittance) if self.receipt.remittance else ()
            if self.receipt.reference:
                own = normalize_reference(self.receipt.reference)
                found = (own, *(token for token in found if token != own))
            self._tokens = found[:_MAX_TOKENS]
        return self._tokens


class MatchingRule(Protocol):
    """One rung of the ladder: propose items for a receipt, or pass with ``None``."""

    @property
    def name(self) -> str:
        """The rule's name, recorded on every allocation it makes."""
        ...

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        """Propose open items for ``receipt``, or ``None`` if this rule cannot tell."""
        ...


# --- the index ----------------------------------------------------------------------------------


class _Slot:
    """The working state of one open item inside an index."""

    __slots__ = (
        "cores",
        "currency",
        "customer_id",
        "discounts",
        "item",
        "item_id",
        "keys",
        "open_minor",
        "original_minor",
        "rank",
        "start_minor",
    )

    def __init__(self, item: OpenItem, rank: int, currency: str, places: int) -> None:
        self.item = item
        self.item_id = item.item_id
        self.customer_id = item.customer_id
        self.currency = currency
        self.rank = rank
        parts = item.instalments
        if len(parts) == 1:
            # No generator for the common case: an index is built over every open item of a run.
            part = parts[0]
            self.original_minor = minor_units(part.amount.amount, places)
            self.open_minor = minor_units(part.open.amount, places)
        else:
            self.original_minor = sum(minor_units(p.amount.amount, places) for p in parts)
            self.open_minor = sum(minor_units(p.open.amount, places) for p in parts)
        self.start_minor = self.open_minor
        self.discounts = (
            tuple(
                (offer.deadline, minor_units(offer.discount.amount, places))
                for offer in item.discounts
            )
            if item.discounts
            else ()
        )
        own = normalize_reference(item.item_id)
        printed = normalize_reference(item.reference) if item.reference else ""
        if printed and printed != own:
            self.keys: tuple[str, ...] = (own, printed) if own else (printed,)
        else:
            self.keys = (own,) if own else ()
        cores = tuple(reference_core(key) for key in self.keys)
        self.cores = cores if len(cores) < 2 or cores[0] != cores[1] else cores[:1]

    def discount_minor(self, paid_on: date) -> int:
        """The best discount a full payment on ``paid_on`` earns, in minor units (0 if none)."""
        if self.open_minor != self.original_minor or not self.discounts:
            return 0
        return max((d for deadline, d in self.discounts if paid_on <= deadline), default=0)


class MatchingIndex:
    """The open items of one cash-application run, indexed for the questions rules ask.

    Built once from the open items (:meth:`build`); the engine records each amount it applies
    (:meth:`settle`), and every lookup answers with the open amounts as they are now. Rules only
    read it. This is the one mutable object of cash application, on purpose: rebuilding a
    100,000-item index per receipt would make applying a bank statement quadratic. It lives for one
    run only and never leaves it; what a run returns are immutable values.

    Amounts are integers of minor units of the item's currency; items are named by their id.
    """

    def __init__(
        self,
        items: Iterable[OpenItem],
        payers: PayerDirectory | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.payers = payers or PayerDirectory()
        self._payer_accounts = {normalise_account(k): v for k, v in self.payers.accounts.items()}
        self._payer_names = {normalise_payer_name(k): v for k, v in self.payers.names.items()}
        self._slots: dict[str, _Slot] = {}
        self._by_reference: dict[str, list[_Slot]] = {}
        self._by_core: dict[str, list[_Slot]] = {}
        self._by_customer: dict[str, list[_Slot]] = {}
        self._by_amount: dict[tuple[str, str, int], list[_Slot]] = {}
        self._by_discounted: dict[tuple[str, str, int], list[tuple[_Slot, date]]] = {}
        self._by_amount_anywhere: dict[tuple[str, int], list[_Slot]] = {}
        self._order: list[_Slot] = []
        places_of: dict[str, int] = {}
        ordered = sorted(items, key=lambda i: (i.due_date, i.document_date, i.item_id))
        for rank, item in enumerate(ordered):
            if item.item_id in self._slots:
                raise InvalidInput(field="open item", value=item.item_id, reason="listed twice")
            code = item.currency
            places = places_of.get(code)
            if places is None:
                places = places_of[code] = decimals_of(code)
            slot = _Slot(item, rank, code, places)
            self._slots[slot.item_id] = slot
            self._order.append(slot)
            for key in slot.keys:
                self._by_reference.setdefault(key, []).append(slot)
            for core in slot.cores:
                if len(core) >= _MIN_CORE:
                    self._by_core.setdefault(core, []).append(slot)
            self._by_customer.setdefault(slot.customer_id, []).append(slot)
            if slot.open_minor > 0:
                key3 = (slot.customer_id, code, slot.open_minor)
                self._by_amount.setdefault(key3, []).append(slot)
                self._by_amount_anywhere.setdefault((code, slot.open_minor), []).append(slot)
            for deadline, discount in slot.discounts:
                if discount > 0 and slot.open_minor == slot.original_minor:
                    key3 = (slot.customer_id, code, slot.open_minor - discount)
                    self._by_discounted.setdefault(key3, []).append((slot, deadline))
        for alias, item_id in (aliases or {}).items():
            target = self._slots.get(item_id)
            if target is None:
                raise InvalidInput(field="alias", value=alias, reason=f"unknown item {item_id}")
            self._by_reference.setdefault(normalize_reference(alias), []).append(target)
        self._input_order = [self._slots[item.item_id] for item in ordered]

    @classmethod
    def build(
        cls,
        items: Iterable[OpenItem],
        *,
        payers: PayerDirectory | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> MatchingIndex:
        """Index open items; ``aliases`` maps extra references (payment intent ids) to item ids."""
        return cls(items, payers, aliases)

    # -- reading -------------------------------------------------------------------------------

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def item(self, item_id: str) -> OpenItem:
        """The open item as it was given to the index (before this run)."""
        return self._slots[item_id].item

    def open_minor(self, item_id: str) -> int:
        """What is open on the item now, in minor units."""
        return self._slots[item_id].open_minor

    def customer_of(self, item_id: str) -> str:
        """The customer who owes the item."""
        return self._slots[item_id].customer_id

    def currency_of(self, item_id: str) -> str:
        """The item's currency code."""
        return self._slots[item_id].currency

    def age_rank(self, item_id: str) -> int:
        """The item's place by due date (then document date and id): lower is older."""
        return self._slots[item_id].rank

    def references_of(self, item_id: str) -> tuple[str, ...]:
        """The normalized references the item answers to (its number and structured reference)."""
        return self._slots[item_id].keys

    def discount_minor(self, item_id: str, paid_on: date) -> int:
        """The discount (minor units) a payment of the whole open amount on ``paid_on`` earns."""
        return self._slots[item_id].discount_minor(paid_on)

    def customer_for(self, payer: Payer) -> str | None:
        """The customer a payer stands for: its own id, else its account, else its name."""
        if payer.customer_id:
            return payer.customer_id
        if payer.account and self._payer_accounts:
            found = self._payer_accounts.get(normalise_account(payer.account))
            if found:
                return found
        if payer.name and self._payer_names:
            return self._payer_names.get(normalise_payer_name(payer.name))
        return None

    def find_reference(self, normalized: str) -> tuple[str, ...]:
        """Open items whose number, structured reference or alias is exactly ``normalized``."""
        slots = self._by_reference.get(normalized)
        if not slots:
            return ()
        return tuple(dict.fromkeys(s.item_id for s in slots if s.open_minor > 0))

    def find_core(self, core: str, *, near: bool = False) -> tuple[str, ...]:
        """Open items whose reference core is ``core`` (or one edit away from it, with ``near``).

        The near search looks up each string one edit away (a few hundred dictionary lookups at
        most), so it never scans the items.
        """
        if not _MIN_CORE <= len(core) <= _MAX_CORE:
            return ()
        found: dict[str, None] = {}
        for slot in self._by_core.get(core, ()):
            if slot.open_minor > 0:
                found[slot.item_id] = None
        if near:
            by_core = self._by_core
            for variant in _one_edit_away(core):
                for slot in by_core.get(variant, ()):
                    if slot.open_minor > 0:
                        found[slot.item_id] = None
        return tuple(found)

    def open_items_of(
        self, customer_id: str, currency: str, limit: int | None = None
    ) -> tuple[str, ...]:
        """The customer's open items in ``currency``, oldest due first, at most ``limit``."""
        result: list[str] = []
        for slot in self._by_customer.get(customer_id, ()):
            if slot.open_minor > 0 and slot.currency == currency:
                result.append(slot.item_id)
                if limit is not None and len(result) >= limit:
                    break
        return tuple(result)

    def with_open_amount(self, customer_id: str, currency: str, minor: int) -> tuple[str, ...]:
        """The customer's items with exactly ``minor`` open, oldest first."""
        slots = self._by_amount.get((customer_id, currency, minor))
        if not slots:
            return ()
        return tuple(s.item_id for s in sorted(slots, key=_by_rank))

    def with_discounted_amount(
        self, customer_id: str, currency: str, minor: int, paid_on: date
    ) -> tuple[str, ...]:
        """The customer's untouched items that ``minor`` pays in full after a discount valid on
        ``paid_on``, oldest first."""
        entries = self._by_discounted.get((customer_id, currency, minor))
        if not entries:
            return ()
        found = {
            slot.item_id: slot.rank
            for slot, deadline in entries
            if paid_on <= deadline
            and slot.open_minor == slot.original_minor
            and slot.open_minor - slot.discount_minor(paid_on) == minor
        }
        return tuple(sorted(found, key=found.__getitem__))

    def with_amount_anywhere(self, currency: str, minor: int, limit: int) -> tuple[str, ...]:
        """Items of any customer with exactly ``minor`` open (suggestions for unknown payers)."""
        slots = self._by_amount_anywhere.get((currency, minor))
        if not slots:
            return ()
        return tuple(s.item_id for s in sorted(slots, key=_by_rank)[:limit])

    # -- the engine's side ---------------------------------------------------------------------

    def settle(self, item_id: str, minor: int) -> None:
        """Record that ``minor`` units of the item were settled (paid, discounted, written off)."""
        slot = self._slots[item_id]
        if not 0 < minor <= slot.open_minor:
            raise InvalidInput(
                field="settlement",
                value=str(minor),
                reason=f"{item_id} has {slot.open_minor} minor units open",
            )
        _unlist(self._by_amount, (slot.customer_id, slot.currency, slot.open_minor), slot)
        _unlist(self._by_amount_anywhere, (slot.currency, slot.open_minor), slot)
        slot.open_minor -= minor
        if slot.open_minor > 0:
            key = (slot.customer_id, slot.currency, slot.open_minor)
            self._by_amount.setdefault(key, []).append(slot)
            self._by_amount_anywhere.setdefault((slot.currency, slot.open_minor), []).append(slot)

    def updated_items(self) -> Iterator[OpenItem]:
        """Every item of the index in due-date order, with what this run settled applied to it."""
        for slot in self._input_order:
            yield _settled_item(slot)

    def changed_items(self) -> dict[str, OpenItem]:
        """The items this run settled something on, by id, with the settlement applied."""
        return {s.item_id: _settled_item(s) for s in self._order if s.open_minor != s.start_minor}


def _unlist(table: dict[_K, list[_Slot]], key: _K, slot: _Slot) -> None:
    bucket = table.get(key)
    if bucket is not None:
        bucket.remove(slot)
        if not bucket:
            del table[key]


def _by_rank(slot: _Slot) -> int:
    return slot.rank


def _settled_item(slot: _Slot) -> OpenItem:
    """The item with ``start - open`` minor units applied oldest instalment first.

    The index already guaranteed the amount fits, so the item's own minor-unit apply does it
    without the per-call checks of :meth:`OpenItem.apply`: a statement run settles tens of
    thousands of items.
    """
    settled = slot.start_minor - slot.open_minor
    if settled == 0:
        return slot.item
    return slot.item._apply_minor(settled, decimals_of(slot.currency))


def _show(amount: Money) -> str:
    return f"{amount.amount} {amount.currency.code}"


# --- the rules ----------------------------------------------------------------------------------


def _ordered(index: MatchingIndex, item_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(item_ids), key=index.age_rank))


@attrs.frozen
class StructuredReferenceRule:
    """An exact reference: the structured reference, else ids in the remittance text.

    A reference in creditor-reference form (``RF`` and two digits) must have check digits that
    hold (:func:`is_broken_creditor_reference`); one with a slip is left to the fuzzy rule and
    the suggestions. An item counts when it is open, in the receipt's currency and, if the payer
    is a known customer, owed by that customer (a reference to someone else's invoice is left to
    a person). Several referenced items are paid oldest first.
    """

    name: str = "structured_reference"
    structured_confidence: Decimal = Decimal("1.00")
    remittance_confidence: Decimal = Decimal("0.98")

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        if receipt.reference:
            key = normalize_reference(receipt.reference)
            found = self._resolve(index, key, context)
            if found:
                return Proposal(
                    self.name,
                    found,
                    self.structured_confidence,
                    f"structured reference {receipt.reference} is {', '.join(found)}",
                )
        if not receipt.remittance:
            return None
        referenced: list[str] = []
        for token in reference_tokens(receipt.remittance):
            referenced.extend(self._resolve(index, token, context))
        if not referenced:
            return None
        ordered = _ordered(index, referenced)
        return Proposal(
            self.name,
            ordered,
            self.remittance_confidence,
            f"remittance text names {', '.join(ordered)}",
        )

    @staticmethod
    def _resolve(index: MatchingIndex, key: str, context: MatchContext) -> tuple[str, ...]:
        if is_broken_creditor_reference(key):
            return ()
        candidates = index.find_reference(key)
        if not candidates:
            return ()
        fitting = tuple(
            item_id
            for item_id in candidates
            if index.currency_of(item_id) == context.currency
            and (context.customer_id is None or index.customer_of(item_id) == context.customer_id)
        )
        # One reference naming several items of the payer cannot say which one was meant.
        return fitting if len(fitting) == 1 else ()


@attrs.frozen
class ExactAmountRule:
    """A known customer paid exactly what one of its items has open."""

    name: str = "exact_amount"
    confidence: Decimal = Decimal("0.95")
    ambiguous_confidence: Decimal = Decimal("0.50")

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        if context.customer_id is None:
            return None
        found = index.with_open_amount(context.customer_id, context.currency, context.amount_minor)
        if not found:
            return None
        if len(found) == 1:
            return Proposal(
                self.name,
                found,
                self.confidence,
                f"the only open item of {context.customer_id} with {_show(receipt.amount)} open",
            )
        return Proposal(
            self.name,
            found[:1],
            self.ambiguous_confidence,
            f"{len(found)} open items of {context.customer_id} have {_show(receipt.amount)} open; "
            "the oldest is suggested",
        )


@attrs.frozen
class CombinationRule:
    """A known customer paid several open items at once: a bounded subset sum.

    Only the customer's ``combination_candidates`` oldest open items take part, in combinations of
    two to ``combination_size`` (at most four) items, smaller combinations first and older items
    preferred. A unique combination is confident; when two fit, or when a single item explains the
    amount as well (a discounted amount, a reference in the remittance text), it is only suggested.
    """

    name: str = "combination"
    confidence: Decimal = Decimal("0.90")
    ambiguous_confidence: Decimal = Decimal("0.50")

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        config = context.config
        if context.customer_id is None or config.combination_size < 2:
            return None
        candidates = index.open_items_of(
            context.customer_id, context.currency, config.combination_candidates
        )
        if len(candidates) < 2:
            return None
        amounts = [index.open_minor(item_id) for item_id in candidates]
        target = context.amount_minor
        if sum(amounts) < target:
            return None
        found = _subset_sums(amounts, target, config.combination_size)
        if not found:
            return None
        chosen = tuple(candidates[i] for i in found[0])
        rival = self._rival(receipt, index, context, chosen)
        if rival:
            return Proposal(
                self.name,
                chosen,
                self.ambiguous_confidence,
                f"{_show(receipt.amount)} is the open total of {', '.join(chosen)}, but {rival}",
            )
        if len(found) == 1:
            return Proposal(
                self.name,
                chosen,
                self.confidence,
                f"{_show(receipt.amount)} is the open total of {', '.join(chosen)}",
            )
        return Proposal(
            self.name,
            chosen,
            self.ambiguous_confidence,
            f"several combinations of open items add up to {_show(receipt.amount)}",
        )

    @staticmethod
    def _rival(
        receipt: Receipt, index: MatchingIndex, context: MatchContext, chosen: tuple[str, ...]
    ) -> str:
        """A single-item explanation that competes with a coincidental combination, if any."""
        assert context.customer_id is not None
        discounted = index.with_discounted_amount(
            context.customer_id, context.currency, context.amount_minor, receipt.value_date
        )
        if discounted:
            return f"it is also the discounted amount of {discounted[0]}"
        for token in context.tokens():
            for item_id in index.find_core(reference_core(token), near=True):
                if item_id not in chosen and index.customer_of(item_id) == context.customer_id:
                    return f"the remittance text resembles {item_id}"
        return ""


def _subset_sums(amounts: list[int], target: int, max_size: int) -> list[tuple[int, ...]]:
    """Up to two index combinations (sizes 2..max_size, at most 4; smallest size first, then the
    oldest items) whose amounts add up to ``target``.

    Pairs are found through a table of amounts and fours through a table of pair sums, so the work
    grows with the square of the number of candidates, never with the number of subsets.
    """
    count = len(amounts)
    positions: dict[int, list[int]] = {}
    for i, amount in enumerate(amounts):
        positions.setdefault(amount, []).append(i)
    found: list[tuple[int, ...]] = []
    if max_size >= 2:
        for i in range(count):
            found.extend((i, j) for j in positions.get(target - amounts[i], ()) if j > i)
        if found:
            return sorted(found)[:2]
    if max_size >= 3:
        for i in range(count):
            for j in range(i + 1, count):
                need = target - amounts[i] - amounts[j]
                if need > 0:
                    found.extend((i, j, k) for k in positions.get(need, ()) if k > j)
            if len(found) >= 2:
                break
        if found:
            return sorted(found)[:2]
    if max_size >= 4:
        pairs: dict[int, list[tuple[int, int]]] = {}
        for k in range(count):
            for m in range(k + 1, count):
                pairs.setdefault(amounts[k] + amounts[m], []).append((k, m))
        for i in range(count):
            for j in range(i + 1, count):
                need = target - amounts[i] - amounts[j]
                if need > 0:
                    found.extend((i, j, k, m) for k, m in pairs.get(need, ()) if k > j)
            if len(found) >= 2:
                break
    return sorted(found)[:2]


@attrs.frozen
class DiscountRule:
    """A known customer paid an item's discounted amount while the discount was on offer."""

    name: str = "discounted_amount"
    confidence: Decimal = Decimal("0.90")
    ambiguous_confidence: Decimal = Decimal("0.50")

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        if context.customer_id is None:
            return None
        found = index.with_discounted_amount(
            context.customer_id, context.currency, context.amount_minor, receipt.value_date
        )
        if not found:
            return None
        unique = len(found) == 1
        return Proposal(
            self.name,
            found[:1],
            self.confidence if unique else self.ambiguous_confidence,
            f"{_show(receipt.amount)} is the discounted amount of {found[0]} paid on "
            f"{receipt.value_date.isoformat()}" + ("" if unique else f" (one of {len(found)})"),
        )


@attrs.frozen
class FuzzyReferenceRule:
    """A reference with a typo, a missing prefix or missing leading zeros.

    Candidates are the items whose reference core equals a remittance candidate's core or lies one
    edit from it (found by lookups, not by a scan), plus, for a known customer, that customer's
    oldest open items. Each is scored by :func:`similarity`-style edit distance between the
    cores over the length of the longer written reference, at most 0.95 since the reference was
    not exact. A candidate counts only if the amount is plausible for it: its open amount, its
    discounted amount, or short of it within the write-off tolerance. The best must reach
    ``threshold`` (or the configured ``fuzzy_threshold``) and lead the next by ``fuzzy_margin``.
    A creditor reference whose check digits fail scores at most ``broken_check_cap``.
    """

    name: str = "fuzzy_reference"
    threshold: Decimal | None = None
    cap: Decimal = Decimal("0.95")
    ambiguous_confidence: Decimal = Decimal("0.50")
    broken_check_cap: Decimal = Decimal("0.75")
    """The most a creditor reference whose check digits fail may score: the digits say the payer
    slipped somewhere, so a person decides (the default ``min_confidence`` is 0.80)."""

    def match(
        self, receipt: Receipt, index: MatchingIndex, context: MatchContext
    ) -> Proposal | None:
        tokens = context.tokens()
        if not tokens:
            return None
        config = context.config
        threshold = config.fuzzy_threshold if self.threshold is None else self.threshold
        scored: dict[str, tuple[Decimal, str]] = {}
        customer = context.customer_id
        for token in tokens:
            core = reference_core(token)
            if len(core) < _MIN_CORE:
                continue
            candidates = set(index.find_core(core, near=True))
            if customer is not None and not candidates:
                # Farther typos: compare with the customer's own oldest items only.
                candidates.update(
                    item_id
                    for item_id in index.open_items_of(
                        customer, context.currency, config.combination_candidates
                    )
                    if any(
                        abs(len(reference_core(k)) - len(core)) <= 2
                        for k in index.references_of(item_id)
                    )
                )
            for item_id in candidates:
                if index.currency_of(item_id) != context.currency:
                    continue
                if customer is not None and index.customer_of(item_id) != customer:
                    continue
                score = self._score(token, core, index.references_of(item_id))
                if score < threshold or not self._plausible(index, item_id, receipt, context):
                    continue
                if is_broken_creditor_reference(token):
                    score = min(score, self.broken_check_cap)
                if item_id not in scored or scored[item_id][0] < score:
                    scored[item_id] = (score, token)
        if not scored:
            return None
        ranked = sorted(scored, key=lambda i: (-scored[i][0], index.age_rank(i)))
        best = ranked[0]
        score, token = scored[best]
        explanation = f"reference {token} resembles {best} (similarity {score})"
        if is_broken_creditor_reference(token):
            explanation += "; its check digits do not hold"
        if len(ranked) > 1 and score - scored[ranked[1]][0] < config.fuzzy_margin:
            return Proposal(
                self.name,
                (best,),
                min(score, self.ambiguous_confidence),
                explanation + f"; {ranked[1]} is as close",
            )
        return Proposal(self.name, (best,), score, explanation)

    def _score(self, token: str, core: str, keys: tuple[str, ...]) -> Decimal:
        best = ZERO
        for key in keys:
            other = reference_core(key)
            distance = _edit_distance(core, other, 2)
            if distance > 2:
                continue
            longest = max(len(token), len(key))
            best = max(best, min(self.cap, _ratio(longest - distance, longest)))
        return best

    @staticmethod
    def _plausible(
        index: MatchingIndex, item_id: str, receipt: Receipt, context: MatchContext
    ) -> bool:
        open_minor = index.open_minor(item_id)
        paid = context.amount_minor
        if paid == open_minor:
            return True
        if paid > open_minor:
            return False
        discount = index.discount_minor(item_id, receipt.value_date)
        if discount and open_minor - discount <= paid:
            return True
        return context.config.tolerance.allows(open_minor - paid, open_minor, context.currency)


DEFAULT_LADDER: tuple[MatchingRule, ...] = (
    StructuredReferenceRule(),
    ExactAmountRule(),
    CombinationRule(),
    DiscountRule(),
    FuzzyReferenceRule(),
)
"""The matching ladder o2c uses unless told otherwise: most certain rule first."""
