"""Benchmark: apply a bank-statement-sized batch of receipts to open invoices.

Generates, from a seed, open invoices over many customers and a realistic mix of receipts whose
intended allocations are known (the ground truth): exact structured references, invoice numbers in
remittance text, typos, combined payments, partial, short and over payments, early-payment
discounts, payments by amount only, advance payments and unknown payers. It applies them with
``apply_statement`` and reports the size of the run, the time, receipts per second, the auto-match
rate, the share of wrong allocations (the run fails unless it is zero) and, as a yardstick measured
in the same process, a naive loop that only looks structured references up in a dictionary.

Garbage collection is paused while timing, as ``timeit`` does. The CPU time of the run is
printed next to its wall time: on a busy machine it is the steadier figure. ``--profile`` runs the
timed part under :mod:`cProfile` and prints the most expensive functions (the times are then
inflated by the profiler and only their proportions mean something).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from o2c.domain.cash import StatementRun, apply_statement
from o2c.domain.matching import MatchingConfig, PayerDirectory, WriteOffTolerance
from o2c.domain.money import as_currency, from_minor, money
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.receivables import DiscountOffer, Instalment, OpenItem

EUR = as_currency("EUR")
BASE = date(2026, 1, 5)
RUN_ON = date(2026, 4, 30)
CONFIG = MatchingConfig(
    tolerance=WriteOffTolerance(absolute=money("1.00", "EUR"), percent=money("1", "EUR").amount)
)

# Share of each kind of receipt, in percent.
MIX = (
    ("reference", 34.0),
    ("remittance", 12.0),
    ("typo", 8.0),
    ("combined", 8.0),
    ("partial", 11.0),
    ("short", 6.0),
    ("discount", 8.0),
    ("amount_only", 8.0),
    ("overpaid", 2.0),
    ("on_account", 1.5),
    ("unknown", 1.5),
)


def creditor_reference(body: str) -> str:
    """An ISO 11649 creditor reference (RF, two check digits, the body)."""
    digits = "".join(str(int(ch, 36)) for ch in body + "RF00")
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{body}"


@dataclass
class Scenario:
    """Open items, receipts and the allocations each receipt is meant to make."""

    items: list[OpenItem]
    receipts: list[Receipt]
    expected: dict[str, dict[str, tuple[int, int, int]]]
    kinds: dict[str, str]
    payers: PayerDirectory
    config: MatchingConfig = CONFIG
    on: date = RUN_ON
    counts: dict[str, int] = field(default_factory=dict)


def _typo(number: int, rng: random.Random, taken: set[str]) -> str | None:
    """A mistyped invoice number that is no other invoice's number."""
    digits = f"{number:07d}"
    for _ in range(10):
        kind = rng.randrange(5)
        if kind == 0:
            text = digits  # prefix left out
        elif kind == 1:
            text = f"INV-{number}"  # leading zeros left out
        elif kind == 2:
            i = rng.randrange(2, 6)
            if digits[i] == digits[i + 1]:
                continue
            text = "INV-" + digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        elif kind == 3:
            i = rng.randrange(2, 7)
            other = rng.choice([d for d in "0123456789" if d != digits[i]])
            text = "INV" + digits[:i] + other + digits[i + 1 :]
        else:
            i = rng.randrange(2, 7)
            text = "INV " + digits[:i] + digits[i + 1 :]
        key = "".join(ch for ch in text.upper() if ch.isalnum())
        if key not in taken:
            return text
    return None


def generate(receipt_count: int, seed: int) -> Scenario:
    """Build a deterministic portfolio and statement of about ``receipt_count`` receipts."""
    rng = random.Random(seed)
    customers = max(2, receipt_count // 10)
    items: list[OpenItem] = []
    amounts_of: dict[str, set[int]] = defaultdict(set)
    by_customer: dict[str, list[OpenItem]] = defaultdict(list)
    minor_of: dict[str, int] = {}
    discount_of: dict[str, int] = {}
    for number in range(1, receipt_count + 1):
        customer = f"C{rng.randrange(customers):05d}"
        amount = rng.randrange(2_000, 500_000)
        while amount in amounts_of[customer]:
            amount = rng.randrange(2_000, 500_000)
        amounts_of[customer].add(amount)
        issued = BASE + timedelta(days=rng.randrange(60))
        discounts: tuple[DiscountOffer, ...] = ()
        if rng.random() < 0.3:
            off = amount * 2 // 100
            discount_of[f"INV-{number:07d}"] = off
            discounts = (
                DiscountOffer(
                    issued + timedelta(days=10), from_minor(off, EUR), money("2", "EUR").amount
                ),
            )
        item = OpenItem(
            item_id=f"INV-{number:07d}",
            customer_id=customer,
            document_date=issued,
            instalments=(Instalment.unpaid(issued + timedelta(days=30), from_minor(amount, EUR)),),
            reference=creditor_reference(f"{number:07d}"),
            discounts=discounts,
        )
        items.append(item)
        by_customer[customer].append(item)
        minor_of[item.item_id] = amount
    taken = {item.item_id.replace("-", "") for item in items}
    taken |= {item.reference for item in items if item.reference}
    accounts = {f"DE{int(c[1:]):020d}": c for c in by_customer if rng.random() < 0.5}
    account_of = {c: a for a, c in accounts.items()}
    names = {f"Customer {c} GmbH": c for c in by_customer}

    receipts: list[Receipt] = []
    expected: dict[str, dict[str, tuple[int, int, int]]] = {}
    kinds: dict[str, str] = {}
    used: set[str] = set()
    order = list(items)
    rng.shuffle(order)
    labels = [label for label, _ in MIX]
    weights = [weight for _, weight in MIX]

    def add(
        kind: str,
        amount: int,
        value_date: date,
        payer: Payer,
        expect: dict[str, tuple[int, int, int]],
        *,
        reference: str | None = None,
        remittance: str = "",
    ) -> None:
        n = len(receipts) + 1
        receipt = Receipt(
            receipt_id=f"R{n:07d}",
            amount=from_minor(amount, EUR),
            value_date=value_date,
            source_id=f"STMT-{seed}-{n:07d}",
            payer=payer,
            remittance=remittance,
            reference=reference,
        )
        receipts.append(receipt)
        expected[receipt.receipt_id] = expect
        kinds[receipt.receipt_id] = kind

    def known_payer(customer: str) -> Payer:
        roll = rng.random()
        if roll < 0.7 or customer not in account_of:
            return Payer(customer_id=customer, name=f"Customer {customer} GmbH")
        return Payer(name="", account=account_of[customer])

    def later(item: OpenItem) -> date:
        return item.document_date + timedelta(days=rng.randrange(12, 45))

    def subset_sums(values: list[int], limit: int) -> set[int]:
        sums: set[int] = set()
        for a in range(len(values)):
            for b in range(a + 1, len(values)):
                sums.add(values[a] + values[b])
                for c in range(b + 1, len(values)):
                    sums.add(values[a] + values[b] + values[c])
                    if limit > 3:
                        sums.update(values[a] + values[b] + values[c] + v for v in values[c + 1 :])
        return sums

    position = 0
    while len(receipts) < receipt_count and position < len(order):
        item = order[position]
        position += 1
        if item.item_id in used:
            continue
        kind = rng.choices(labels, weights)[0]
        customer = item.customer_id
        open_minor = minor_of[item.item_id]
        number = int(item.item_id[4:])
        if kind == "discount" and item.item_id not in discount_of:
            kind = "amount_only"
        if kind == "typo" and number < 1000:
            kind = "remittance"
        used.add(item.item_id)
        if kind == "reference":
            payer = known_payer(customer) if rng.random() < 0.8 else Payer(name="J. DOE")
            ref = item.reference if rng.random() < 0.5 else item.item_id
            add(
                kind,
                open_minor,
                later(item),
                payer,
                {item.item_id: (open_minor, 0, 0)},
                reference=ref,
            )
        elif kind == "remittance":
            text = rng.choice(
                [
                    f"Invoice {item.item_id} thank you",
                    f"INV {number:07d}",
                    f"pay {item.item_id}, cust {customer}",
                ]
            )
            add(
                kind,
                open_minor,
                later(item),
                known_payer(customer),
                {item.item_id: (open_minor, 0, 0)},
                remittance=text,
            )
        elif kind == "typo":
            text = _typo(number, rng, taken)
            if text is None:
                used.discard(item.item_id)
                continue
            short = rng.randrange(1, 60) if rng.random() < 0.5 else 0
            add(
                kind,
                open_minor - short,
                later(item),
                Payer(customer_id=customer),
                {item.item_id: (open_minor - short, 0, short)},
                remittance=f"Payment {text}",
            )
        elif kind == "combined":
            mates = [i for i in by_customer[customer] if i.item_id not in used][
                : rng.randrange(1, 3)
            ]
            if not mates:
                used.discard(item.item_id)
                continue
            group = [item, *mates]
            amount = sum(minor_of[i.item_id] for i in group)
            others = [minor_of[i.item_id] for i in by_customer[customer] if i not in group]
            others_discounted = {
                minor_of[i] - d
                for i, d in discount_of.items()
                if i in {o.item_id for o in by_customer[customer]}
            }
            if amount in others or amount in others_discounted:
                used.discard(item.item_id)
                continue
            used.update(i.item_id for i in group)
            add(
                kind,
                amount,
                max(later(i) for i in group),
                known_payer(customer),
                {i.item_id: (minor_of[i.item_id], 0, 0) for i in group},
                remittance="invoices, see list",
            )
        elif kind == "partial":
            first = open_minor * rng.randrange(30, 71) // 100
            when = later(item)
            add(
                kind,
                first,
                when,
                known_payer(customer),
                {item.item_id: (first, 0, 0)},
                reference=item.item_id,
            )
            add(
                kind,
                open_minor - first,
                when + timedelta(days=14),
                known_payer(customer),
                {item.item_id: (open_minor - first, 0, 0)},
                reference=item.reference,
            )
        elif kind == "short":
            short = rng.randrange(1, min(100, open_minor // 100) + 1)
            add(
                kind,
                open_minor - short,
                later(item),
                known_payer(customer),
                {item.item_id: (open_minor - short, 0, short)},
                reference=item.reference,
            )
        elif kind == "discount":
            off = discount_of[item.item_id]
            when = item.document_date + timedelta(days=rng.randrange(0, 11))
            others = {minor_of[i.item_id] for i in by_customer[customer]}
            if open_minor - off in others:
                used.discard(item.item_id)
                continue
            ref = item.reference if rng.random() < 0.5 else None
            add(
                kind,
                open_minor - off,
                when,
                known_payer(customer),
                {item.item_id: (open_minor - off, off, 0)},
                reference=ref,
            )
        elif kind == "amount_only":
            add(
                kind,
                open_minor,
                later(item),
                known_payer(customer),
                {item.item_id: (open_minor, 0, 0)},
            )
        elif kind == "overpaid":
            extra = rng.randrange(1, 10_000)
            add(
                kind,
                open_minor + extra,
                later(item),
                known_payer(customer),
                {item.item_id: (open_minor, 0, 0)},
                reference=item.reference,
            )
        elif kind == "on_account":
            used.discard(item.item_id)
            values = [minor_of[i.item_id] for i in by_customer[customer]]
            forbidden = subset_sums(values, 4) | set(values)
            forbidden |= {
                minor_of[i] - d
                for i, d in discount_of.items()
                if i in {o.item_id for o in by_customer[customer]}
            }
            amount = rng.randrange(1, 100) * 10_000
            if amount in forbidden:
                continue
            add(
                kind,
                amount,
                BASE + timedelta(days=rng.randrange(90)),
                Payer(customer_id=customer),
                {},
                remittance="advance payment",
            )
        else:
            used.discard(item.item_id)
            add(
                kind,
                rng.randrange(1, 100) * 10_000 + 1,
                BASE + timedelta(days=rng.randrange(90)),
                Payer(name="UNKNOWN SENDER"),
                {},
                remittance="payment",
            )
    rng.shuffle(receipts)
    receipts.sort(key=lambda r: r.value_date)
    counts: dict[str, int] = defaultdict(int)
    for kind in kinds.values():
        counts[kind] += 1
    return Scenario(
        items,
        receipts,
        expected,
        kinds,
        PayerDirectory(accounts=accounts, names=names),
        counts=dict(counts),
    )


@dataclass
class Outcome:
    """What a run did, judged against the ground truth."""

    run: StatementRun
    seconds: float
    cpu_seconds: float
    matched: int
    wrong: int
    allocations: int
    missed_by_kind: dict[str, int]


def run(scenario: Scenario, profile: bool = False) -> Outcome:
    """Apply the scenario's statement (timed) and check every allocation against the truth."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    profiler = cProfile.Profile() if profile else None
    try:
        start = time.perf_counter()
        cpu_start = time.process_time()
        if profiler is not None:
            profiler.enable()
        result = apply_statement(
            scenario.receipts,
            scenario.items,
            on=scenario.on,
            config=scenario.config,
            payers=scenario.payers,
        )
        if profiler is not None:
            profiler.disable()
        cpu_seconds = time.process_time() - cpu_start
        seconds = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    places = 2
    wrong = 0
    matched: set[str] = set()
    for allocation in result.allocations:
        matched.add(allocation.receipt_id)
        truth = scenario.expected[allocation.receipt_id].get(allocation.item_id)
        got = tuple(
            int(part.amount.scaleb(places))
            for part in (allocation.applied, allocation.discount, allocation.write_off)
        )
        if truth != got:
            wrong += 1
    missed: dict[str, int] = defaultdict(int)
    for receipt_id, truth in scenario.expected.items():
        if truth and receipt_id not in matched:
            missed[scenario.kinds[receipt_id]] += 1
    return Outcome(
        result, seconds, cpu_seconds, len(matched), wrong, len(result.allocations), dict(missed)
    )


def baseline(scenario: Scenario) -> float:
    """Seconds for a naive loop: a dictionary of references and one lookup per receipt."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        by_reference = {}
        for item in scenario.items:
            by_reference[item.item_id] = item
            if item.reference:
                by_reference[item.reference] = item
        hits = sum(1 for r in scenario.receipts if r.reference and r.reference in by_reference)
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    return seconds if hits >= 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260430)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds allowed (report only)")
    parser.add_argument("--profile", action="store_true", help="profile the timed run")
    args = parser.parse_args(argv)
    scenario = generate(args.receipts, args.seed)
    customers = len({item.customer_id for item in scenario.items})
    outcome = run(scenario, profile=args.profile)
    naive = baseline(scenario)
    total = len(scenario.receipts)
    rate = outcome.matched / total
    wrong_share = outcome.wrong / max(1, outcome.allocations)
    print(f"receipts            {total}")
    print(f"open items          {len(scenario.items)} over {customers} customers")
    print(
        f"mix                 {', '.join(f'{k} {v}' for k, v in sorted(scenario.counts.items()))}"
    )
    print(f"seconds             {outcome.seconds:.3f} (budget {args.budget:.1f})")
    print(f"CPU seconds         {outcome.cpu_seconds:.3f}")
    print(f"receipts/second     {total / outcome.seconds:,.0f}")
    print(f"auto-matched        {rate:.2%} ({outcome.matched} of {total})")
    print(f"allocations         {outcome.allocations}")
    print(f"wrong allocations   {wrong_share:.4%} ({outcome.wrong})")
    print(f"missed by kind      {outcome.missed_by_kind}")
    print(f"exceptions          {len(outcome.run.exceptions)}")
    print(f"naive baseline      {naive:.3f} s; run/baseline ratio {outcome.seconds / naive:.1f}")
    if outcome.wrong:
        print("FAIL: wrong allocations", file=sys.stderr)
        return 1
    if rate < 0.95:
        print("FAIL: auto-match rate below 95 %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
