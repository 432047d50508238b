"""The double-entry ledger: balanced entries, the chart of accounts, posting rules, the ledger."""

from __future__ import annotations

import contextlib
import pickle
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import hypothesis.strategies as st
import pytest
from hypothesis import given

from o2c.domain.errors import (
    CurrencyMismatch,
    DuplicateEntry,
    InvalidAmount,
    InvalidInput,
    UnbalancedEntry,
    UnknownAccount,
    UnmappedAccountRole,
)
from o2c.domain.ledger import (
    AccountRole,
    JournalEntry,
    Ledger,
    Posting,
    Side,
)
from o2c.domain.money import Money, from_minor, money, to_minor
from o2c.domain.posting import AmountLine, PostingRules
from o2c.domain.receivables import Instalment, OpenItem

ON = date(2026, 3, 2)
RULES = PostingRules()
CHART = RULES.chart
AR = CHART.code(AccountRole.RECEIVABLE)


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def debit(account: str, amount: Money, **more: str) -> Posting:
    return Posting(account, Side.DEBIT, amount, **more)


def credit(account: str, amount: Money, **more: str) -> Posting:
    return Posting(account, Side.CREDIT, amount, **more)


def lines(entry: JournalEntry) -> list[tuple[str, str, str]]:
    """An entry as (account, side, amount) rows: what an accountant reads."""
    return [(p.account, p.side.value, f"{p.amount.amount:f}") for p in entry.postings]


def an_invoice(invoice_id: str = "INV-1", customer: str = "C1") -> JournalEntry:
    return RULES.invoice_issued(
        invoice_id,
        customer,
        ON,
        [AmountLine(eur("100.00"))],
        [AmountLine(eur("19.00"), memo="S 19%")],
    )


# --- entries ----------------------------------------------------------------------------------


def test_a_balanced_entry() -> None:
    entry = JournalEntry(
        "E1", ON, "cash sale", (debit("1000", eur("10.00")), credit("4000", eur("10.00")))
    )
    assert entry.currencies == ("EUR",)
    assert [p.units for p in entry.postings] == [1000, -1000]


def test_an_unbalanced_entry_cannot_exist() -> None:
    with pytest.raises(UnbalancedEntry) as refused:
        JournalEntry("E1", ON, "typo", (debit("1000", eur("10.00")), credit("4000", eur("10.01"))))
    assert (refused.value.currency, refused.value.debits, refused.value.credits) == (
        "EUR",
        "10.00",
        "10.01",
    )
    assert "does not balance in EUR" in str(refused.value)


def test_an_entry_balances_per_currency_not_in_total() -> None:
    with pytest.raises(UnbalancedEntry) as refused:
        JournalEntry(
            "E1",
            ON,
            "mixed",
            (
                debit("1000", eur("10.00")),
                credit("4000", money("10.00", "USD")),
            ),
        )
    assert refused.value.currency == "EUR"


def test_an_entry_needs_two_postings() -> None:
    with pytest.raises(InvalidInput):
        JournalEntry("E1", ON, "lonely", (debit("1000", eur("0.01")),))


@pytest.mark.parametrize("amount", [eur("0"), eur("-1.00"), Money("0.001", "EUR")])
def test_a_posting_needs_a_positive_exact_amount(amount: Money) -> None:
    with pytest.raises(InvalidAmount):
        debit("1000", amount)


def test_metadata_is_sorted_pairs_whatever_is_passed() -> None:
    entry = JournalEntry(
        "E1",
        ON,
        "x",
        (debit("1000", eur("1.00")), credit("4000", eur("1.00"))),
        metadata={"b": "2", "a": "1"},
    )
    assert entry.metadata == (("a", "1"), ("b", "2"))
    assert entry.meta("b") == "2"
    assert entry.meta("c") is None


# --- chart of accounts ------------------------------------------------------------------------


def test_the_default_chart_maps_every_role() -> None:
    assert {role: CHART.code(role) for role in AccountRole}[AccountRole.RECEIVABLE] == "1200"
    assert CHART.name("1200") == "Accounts receivable"


def test_a_rule_needing_an_unmapped_role_is_refused() -> None:
    rules = PostingRules(CHART.without_role(AccountRole.FEE_INCOME))
    with pytest.raises(UnmappedAccountRole) as refused:
        rules.fee_charged("F1", "C1", ON, eur("5.00"))
    assert refused.value.role == "fee_income"
    rules.interest_charged("I1", "C1", ON, eur("5.00"))  # other rules still work


def test_a_chart_refuses_duplicate_codes_and_roles_without_accounts() -> None:
    with pytest.raises(InvalidInput):
        CHART.with_account("1200", "Receivables again")
    with pytest.raises(InvalidInput):
        CHART.assign(AccountRole.BAD_DEBT, "9999")


def test_users_configure_their_own_accounts() -> None:
    chart = CHART.with_account("6850", "Allowance for doubtful accounts", AccountRole.BAD_DEBT)
    entry = PostingRules(chart).bad_debt_written_off("INV-1", "C1", ON, eur("50.00"))
    assert lines(entry) == [("6850", "debit", "50.00"), ("1200", "credit", "50.00")]


# --- posting rules ----------------------------------------------------------------------------


def test_invoice_issued() -> None:
    entry = an_invoice()
    assert entry.entry_id == "INV-1:invoice_issued"
    assert lines(entry) == [
        ("1200", "debit", "119.00"),
        ("4000", "credit", "100.00"),
        ("2200", "credit", "19.00"),
    ]
    assert entry.postings[0].party == "C1"
    assert entry.postings[0].document == "INV-1"
    assert entry.postings[2].memo == "S 19%"


def test_invoice_revenue_per_account_and_tax_per_rate() -> None:
    chart = CHART.with_account("4010", "Services")
    entry = PostingRules(chart).invoice_issued(
        "INV-2",
        "C1",
        ON,
        [AmountLine(eur("60.00")), AmountLine(eur("40.00"), "4010"), AmountLine(eur("10.00"))],
        [AmountLine(eur("13.30"), memo="S 19%"), AmountLine(eur("2.80"), memo="S 7%")],
        gross=eur("126.10"),
    )
    assert lines(entry) == [
        ("1200", "debit", "126.10"),
        ("4000", "credit", "70.00"),
        ("4010", "credit", "40.00"),
        ("2200", "credit", "13.30"),
        ("2200", "credit", "2.80"),
    ]


def test_a_discount_line_posts_on_the_other_side() -> None:
    entry = RULES.invoice_issued(
        "INV-3",
        "C1",
        ON,
        [AmountLine(eur("100.00")), AmountLine(eur("-10.00"), "4100")],
    )
    assert lines(entry) == [
        ("1200", "debit", "90.00"),
        ("4000", "credit", "100.00"),
        ("4100", "debit", "10.00"),
    ]


def test_an_invoice_whose_gross_disagrees_with_its_lines_is_unbalanced() -> None:
    with pytest.raises(UnbalancedEntry):
        RULES.invoice_issued("INV-1", "C1", ON, [AmountLine(eur("100.00"))], gross=eur("99.99"))


def test_an_invoice_in_two_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        RULES.invoice_issued(
            "INV-1", "C1", ON, [AmountLine(eur("1.00")), AmountLine(money("1.00", "USD"))]
        )


def test_an_invoice_needs_revenue() -> None:
    with pytest.raises(InvalidInput):
        RULES.invoice_issued("INV-1", "C1", ON, [])


def test_credit_note_mirrors_the_invoice() -> None:
    entry = RULES.credit_note_issued(
        "CN-1",
        "C1",
        ON,
        [AmountLine(eur("100.00"))],
        [AmountLine(eur("19.00"))],
        applies_to="INV-1",
    )
    assert entry.entry_id == "CN-1:credit_note_issued"
    assert lines(entry) == [
        ("1200", "credit", "119.00"),
        ("4000", "debit", "100.00"),
        ("2200", "debit", "19.00"),
    ]
    assert entry.postings[0].document == "INV-1"
    assert entry.meta("applies_to") == "INV-1"


@pytest.mark.parametrize(
    ("via", "account"), [(AccountRole.BANK, "1000"), (AccountRole.GATEWAY_CLEARING, "1050")]
)
def test_receipt_recorded(via: AccountRole, account: str) -> None:
    entry = RULES.receipt_recorded("R1", ON, eur("119.00"), customer_id="C1", via=via)
    assert lines(entry) == [(account, "debit", "119.00"), ("2400", "credit", "119.00")]
    assert entry.postings[1].party == "C1"


def test_money_moves_only_through_bank_or_gateway_clearing() -> None:
    with pytest.raises(InvalidInput):
        RULES.receipt_recorded("R1", ON, eur("1.00"), via=AccountRole.REVENUE)


def test_receipt_applied() -> None:
    entry = RULES.receipt_applied("R1", "INV-1", "C1", ON, eur("119.00"))
    assert entry.entry_id == "R1/INV-1:receipt_applied"
    assert lines(entry) == [("2400", "debit", "119.00"), ("1200", "credit", "119.00")]
    assert entry.postings[1].document == "INV-1"


def test_discount_taken_with_a_tax_correction() -> None:
    entry = RULES.discount_taken(
        "INV-1", "C1", ON, eur("2.38"), [AmountLine(eur("0.38"), memo="S 19%")]
    )
    assert lines(entry) == [
        ("4100", "debit", "2.00"),
        ("2200", "debit", "0.38"),
        ("1200", "credit", "2.38"),
    ]


def test_a_tax_correction_cannot_exceed_the_discount() -> None:
    with pytest.raises(InvalidInput):
        RULES.discount_taken("INV-1", "C1", ON, eur("1.00"), [AmountLine(eur("1.01"))])


def test_short_payment_written_off() -> None:
    entry = RULES.short_payment_written_off("INV-1", "C1", ON, eur("0.50"))
    assert lines(entry) == [("6800", "debit", "0.50"), ("1200", "credit", "0.50")]


def test_fee_and_interest_charged() -> None:
    fee = RULES.fee_charged("DN-1", "C1", ON, eur("5.00"))
    interest = RULES.interest_charged("DN-2", "C1", ON, eur("1.23"))
    assert lines(fee) == [("1200", "debit", "5.00"), ("4800", "credit", "5.00")]
    assert lines(interest) == [("1200", "debit", "1.23"), ("4810", "credit", "1.23")]
    assert fee.postings[0].document == "DN-1"


def test_bad_debt_written_off_with_tax_relief() -> None:
    entry = RULES.bad_debt_written_off("INV-1", "C1", ON, eur("119.00"), [AmountLine(eur("19.00"))])
    assert lines(entry) == [
        ("6810", "debit", "100.00"),
        ("2200", "debit", "19.00"),
        ("1200", "credit", "119.00"),
    ]


def test_credit_refunded() -> None:
    entry = RULES.credit_refunded("RF-1", "C1", ON, eur("20.00"))
    assert lines(entry) == [("2400", "debit", "20.00"), ("1000", "credit", "20.00")]
    entry = RULES.credit_refunded(
        "RF-2", "C1", ON, eur("20.00"), held_in=AccountRole.CUSTOMER_CREDIT
    )
    assert lines(entry)[0] == ("2410", "debit", "20.00")
    with pytest.raises(InvalidInput):
        RULES.credit_refunded("RF-3", "C1", ON, eur("1.00"), held_in=AccountRole.REVENUE)


def test_receipt_reversed_mirrors_recording_and_applications() -> None:
    entry = RULES.receipt_reversed(
        "R1",
        ON,
        eur("150.00"),
        [("INV-1", eur("119.00")), ("INV-2", eur("20.00"))],
        customer_id="C1",
    )
    assert lines(entry) == [
        ("1200", "debit", "119.00"),
        ("1200", "debit", "20.00"),
        ("2400", "debit", "11.00"),
        ("1000", "credit", "150.00"),
    ]
    with pytest.raises(InvalidInput):
        RULES.receipt_reversed("R1", ON, eur("10.00"), [("INV-1", eur("10.01"))])


def test_gateway_settled_net_of_fees() -> None:
    entry = RULES.gateway_settled("PO-1", ON, eur("119.00"), eur("1.90"))
    assert lines(entry) == [
        ("1000", "debit", "117.10"),
        ("6820", "debit", "1.90"),
        ("1050", "credit", "119.00"),
    ]
    with pytest.raises(InvalidInput):
        RULES.gateway_settled("PO-2", ON, eur("1.00"), eur("1.00"))


def test_fx_difference_gain_loss_and_none() -> None:
    gain = RULES.fx_difference("R1", "C1", ON, eur("100.00"), eur("103.50"), invoice_id="INV-9")
    loss = RULES.fx_difference("R2", "C1", ON, eur("100.00"), eur("98.00"))
    assert gain is not None
    assert loss is not None
    assert lines(gain) == [("1200", "debit", "3.50"), ("4900", "credit", "3.50")]
    assert lines(loss) == [("6900", "debit", "2.00"), ("1200", "credit", "2.00")]
    assert RULES.fx_difference("R3", "C1", ON, eur("1.00"), eur("1.00")) is None
    with pytest.raises(CurrencyMismatch):
        RULES.fx_difference("R4", "C1", ON, eur("1.00"), money("1.00", "USD"))


def test_rules_give_the_same_entry_for_the_same_event() -> None:
    assert an_invoice() == an_invoice()


# --- the ledger -------------------------------------------------------------------------------


def test_posting_returns_a_new_ledger_and_leaves_the_old_one() -> None:
    empty = Ledger.empty()
    ledger = empty.post(an_invoice())
    assert len(empty) == 0
    assert len(ledger) == 1
    assert ledger.receivable_balance("EUR") == eur("119.00")
    assert empty.receivable_balance("EUR") == eur("0")


def test_the_same_entry_twice_changes_nothing() -> None:
    ledger = Ledger.empty().post(an_invoice())
    assert ledger.post(an_invoice()) is ledger


def test_the_same_id_with_other_content_is_a_duplicate() -> None:
    ledger = Ledger.empty().post(an_invoice())
    other = RULES.invoice_issued("INV-1", "C1", ON, [AmountLine(eur("1.00"))])
    with pytest.raises(DuplicateEntry) as refused:
        ledger.post(other)
    assert refused.value.entry_id == "INV-1:invoice_issued"


def test_an_unknown_account_is_refused() -> None:
    entry = JournalEntry("E1", ON, "x", (debit("1000", eur("1.00")), credit("4999", eur("1.00"))))
    with pytest.raises(UnknownAccount):
        Ledger.empty().post(entry)


def test_a_batch_with_one_bad_entry_posts_nothing() -> None:
    ledger = Ledger.empty().post(an_invoice())
    clash = RULES.invoice_issued("INV-1", "C1", ON, [AmountLine(eur("1.00"))])
    batch = [an_invoice("INV-2"), an_invoice("INV-3"), clash]
    with pytest.raises(DuplicateEntry):
        ledger.post_batch(batch)
    assert len(ledger) == 1
    assert ledger.post_batch(batch[:2]).receivable_balance("EUR") == eur("357.00")


def test_a_batch_refuses_two_contents_under_one_id() -> None:
    clash = RULES.invoice_issued("INV-1", "C1", ON, [AmountLine(eur("1.00"))])
    with pytest.raises(DuplicateEntry):
        Ledger.empty().post_batch([an_invoice(), clash])
    assert len(Ledger.empty().post_batch([an_invoice(), an_invoice()])) == 1


def test_posting_from_an_older_ledger_branches_without_touching_the_newer() -> None:
    base = Ledger.empty().post(an_invoice("INV-1"))
    first = base.post(an_invoice("INV-2", "C2"))
    second = base.post(RULES.fee_charged("DN-1", "C1", ON, eur("5.00")))
    assert first.receivable_balance("EUR") == eur("238.00")
    assert second.receivable_balance("EUR") == eur("124.00")
    assert base.receivable_balance("EUR") == eur("119.00")
    assert "INV-2:invoice_issued" in first
    assert "INV-2:invoice_issued" not in second
    assert "INV-2:invoice_issued" not in base
    assert first.get("DN-1:fee_charged") is None


def test_posting_from_one_version_in_many_threads_gives_each_its_own_ledger() -> None:
    base = Ledger.empty().post(an_invoice("INV-1"))
    invoices = [an_invoice(f"INV-{n}", f"C{n}") for n in range(2, 34)]
    start = threading.Barrier(len(invoices))

    def post(entry: JournalEntry) -> Ledger:
        start.wait()
        return base.post(entry)

    with ThreadPoolExecutor(max_workers=len(invoices)) as pool:
        results = list(pool.map(post, invoices))
    for entry, ledger in zip(invoices, results, strict=True):
        assert ledger.entries == (*base.entries, entry)
        assert ledger.receivable_balance("EUR") == eur("238.00")
        assert ledger.trial_balance().is_balanced
    assert base.entries == (an_invoice("INV-1"),)
    assert base.receivable_balance("EUR") == eur("119.00")


def test_an_unpickled_older_version_branches_instead_of_appending() -> None:
    older = Ledger.empty().post(an_invoice("INV-1"))
    newer = older.post(an_invoice("INV-2", "C2"))
    older_again, newer_again = pickle.loads(pickle.dumps((older, newer)))
    branch = older_again.post(RULES.fee_charged("DN-1", "C1", ON, eur("5.00")))
    assert branch.entries == (*older.entries, RULES.fee_charged("DN-1", "C1", ON, eur("5.00")))
    assert newer_again == newer
    assert newer_again.receivable_balance("EUR") == eur("238.00")


def test_a_whole_cycle_reconciles_ar_with_the_open_items() -> None:
    item = OpenItem("INV-1", "C1", ON, (Instalment.unpaid(date(2026, 4, 1), eur("119.00")),))
    entries = [
        an_invoice(),
        RULES.receipt_recorded("R1", ON, eur("100.00"), customer_id="C1"),
        RULES.receipt_applied("R1", "INV-1", "C1", ON, eur("100.00")),
        RULES.short_payment_written_off("INV-1", "C1", ON, eur("0.50")),
    ]
    ledger = Ledger.empty().post_batch(entries)
    item = item.apply(eur("100.00")).apply(eur("0.50"))
    assert ledger.receivable_balance("EUR", "C1") == item.open == eur("18.50")
    assert ledger.balances_by_party(AR, "EUR") == {"C1": eur("18.50")}
    assert ledger.role_balance(AccountRole.UNAPPLIED_CASH, "EUR") == eur("0")
    assert ledger.balance("1000", "EUR") == eur("100.00")


def test_trial_balance_and_its_rendering() -> None:
    ledger = Ledger.empty().post_batch(
        [
            an_invoice(),
            RULES.receipt_recorded("R1", ON, eur("119.00"), customer_id="C1"),
            RULES.receipt_applied("R1", "INV-1", "C1", ON, eur("119.00")),
            RULES.fee_charged("DN-1", "C2", ON, money("500", "JPY")),
        ]
    )
    trial = ledger.trial_balance()
    assert trial.is_balanced
    assert trial.currencies == ("EUR", "JPY")
    assert trial.totals("EUR") == (eur("357.00"), eur("357.00"))
    receivable = next(r for r in trial.rows if r.account == AR and r.currency == "EUR")
    assert (receivable.debit, receivable.credit, receivable.balance) == (
        eur("119.00"),
        eur("119.00"),
        eur("0.00"),
    )
    assert trial.render() == "\n".join(
        [
            "account                   currency   debit  credit  balance",
            "-----------------------------------------------------------",
            "1000 Bank                 EUR       119.00    0.00   119.00",
            "1200 Accounts receivable  EUR       119.00  119.00     0.00",
            "2200 Tax payable          EUR         0.00   19.00   -19.00",
            "2400 Unapplied cash       EUR       119.00  119.00     0.00",
            "4000 Revenue              EUR         0.00  100.00  -100.00",
            "total                     EUR       357.00  357.00     0.00",
            "1200 Accounts receivable  JPY          500       0      500",
            "4800 Dunning fee income   JPY            0     500     -500",
            "total                     JPY          500     500        0",
        ]
    )


def test_a_ledger_survives_pickling() -> None:
    ledger = Ledger.empty().post(an_invoice())
    assert pickle.loads(pickle.dumps(ledger)) == ledger


# --- properties -------------------------------------------------------------------------------

customers = st.sampled_from(["C1", "C2", "C3"])
currencies = st.sampled_from(["EUR", "JPY", "KWD"])


@st.composite
def amounts(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(currencies)
    return from_minor(draw(st.integers(min_value=1, max_value=10**7)), code)


@st.composite
def events(draw: st.DrawFn) -> JournalEntry | None:
    """One business event of the cycle, posted by its rule, with ids that may repeat."""
    kind = draw(st.integers(min_value=0, max_value=11))
    source = f"S{draw(st.integers(min_value=0, max_value=8))}"
    customer = draw(customers)
    amount = draw(amounts())
    cur = amount.currency.code
    if kind == 0:
        revenue = draw(st.lists(amounts(cur).map(AmountLine), min_size=1, max_size=3))
        tax = draw(st.lists(amounts(cur).map(AmountLine), max_size=2))
        return RULES.invoice_issued(source, customer, ON, revenue, tax)
    if kind == 1:
        revenue = draw(st.lists(amounts(cur).map(AmountLine), min_size=1, max_size=3))
        return RULES.credit_note_issued(source, customer, ON, revenue)
    if kind == 2:
        return RULES.receipt_recorded(source, ON, amount, customer_id=customer)
    if kind == 3:
        return RULES.receipt_applied(source, "INV", customer, ON, amount)
    if kind == 4:
        return RULES.discount_taken(source, customer, ON, amount)
    if kind == 5:
        return RULES.short_payment_written_off(source, customer, ON, amount)
    if kind == 6:
        return RULES.fee_charged(source, customer, ON, amount)
    if kind == 7:
        return RULES.bad_debt_written_off(source, customer, ON, amount)
    if kind == 8:
        return RULES.credit_refunded(source, customer, ON, amount)
    if kind == 9:
        applied = draw(st.integers(min_value=0, max_value=to_minor(amount)))
        parts = [("INV", from_minor(applied, cur))] if applied else []
        return RULES.receipt_reversed(source, ON, amount, parts, customer_id=customer)
    if kind == 10:
        return RULES.gateway_settled(source, ON, amount)
    other = draw(amounts(cur))
    return RULES.fx_difference(source, customer, ON, amount, other)


@given(events())
def test_every_generated_entry_balances_per_currency(entry: JournalEntry | None) -> None:
    if entry is None:
        return
    for currency in entry.currencies:
        units = [p.units for p in entry.postings if p.currency == currency]
        assert sum(units) == 0
    assert all(p.amount.amount > 0 for p in entry.postings)


def post_all(entries: Sequence[JournalEntry | None]) -> Ledger:
    ledger = Ledger.empty()
    for entry in entries:
        if entry is not None:
            with contextlib.suppress(DuplicateEntry):
                ledger = ledger.post(entry)
    return ledger


@given(st.lists(events(), max_size=12))
def test_the_trial_balance_always_sums_to_zero_per_currency(
    entries: list[JournalEntry | None],
) -> None:
    ledger = post_all(entries)
    trial = ledger.trial_balance()
    assert trial.is_balanced
    for currency in trial.currencies:
        debit, credit = trial.totals(currency)
        assert debit == credit
        balances = [row.balance.amount for row in trial.rows if row.currency == currency]
        assert sum(balances) == 0
    for row in trial.rows:
        assert ledger.balance(row.account, row.currency) == row.balance


@given(st.lists(events(), max_size=12))
def test_party_balances_add_up_to_the_control_account(entries: list[JournalEntry | None]) -> None:
    ledger = post_all(entries)
    for currency in ("EUR", "JPY", "KWD"):
        by_party = ledger.balances_by_party(AR, currency)
        assert (
            sum(m.amount for m in by_party.values()) == ledger.receivable_balance(currency).amount
        )


@given(st.lists(events(), max_size=10), st.data())
def test_posting_an_entry_again_changes_nothing(
    entries: list[JournalEntry | None], data: st.DataObject
) -> None:
    ledger = post_all(entries)
    if not len(ledger):
        return
    again = data.draw(st.sampled_from(ledger.entries))
    assert ledger.post(again) is ledger
    assert ledger.post_batch(ledger.entries) is ledger


@given(st.lists(events(), max_size=10), st.lists(events(), max_size=10))
def test_a_batch_posts_all_or_nothing(
    before: list[JournalEntry | None], batch: list[JournalEntry | None]
) -> None:
    ledger = post_all(before)
    entries = [e for e in batch if e is not None]
    trial = ledger.trial_balance()
    try:
        after = ledger.post_batch(entries)
    except DuplicateEntry:
        assert ledger.trial_balance() == trial
        probe = JournalEntry(
            "probe", ON, "probe", (debit("1000", eur("1.00")), credit("4000", eur("1.00")))
        )
        assert ledger.post(probe).entries == (*ledger.entries, probe)
        return
    for entry in entries:
        assert after.get(entry.entry_id) == entry
    assert after.trial_balance().is_balanced


@given(st.lists(events(), max_size=12), st.integers(min_value=0, max_value=20))
def test_an_older_version_keeps_its_balances(entries: list[JournalEntry | None], cut: int) -> None:
    posted = [e for e in entries if e is not None]
    full = post_all(posted)
    prefix = post_all(list(full.entries[:cut]))
    versions = [Ledger.empty()]
    for entry in full.entries:
        versions.append(versions[-1].post(entry))
    old = versions[min(cut, len(versions) - 1)]
    assert old.trial_balance() == prefix.trial_balance()
    assert old.entries == prefix.entries
