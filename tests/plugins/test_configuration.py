"""Reading configuration: defaults, the TOML format, and errors that name the key at fault."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.config import DEFAULT_ADAPTERS, AdapterChoice, Config, ConfigError
from o2c.domain.calendar import Weekday
from o2c.domain.credit import (
    CreditOutcome,
    CreditPolicySet,
    LimitCheck,
    OverdueHold,
    default_credit_policy,
)
from o2c.domain.dunning import DunningAction
from o2c.domain.invoicing import TaxRounding
from o2c.domain.ledger import AccountRole, ChartOfAccounts
from o2c.domain.money import money
from o2c.domain.orders import InvoicingPolicy
from o2c.ports.registry import PortName
from o2c.services.context import OutOfStockPolicy, Settings

FULL = """
[adapters]
inventory = "memory"

[adapters.clock]
use = "fixed"
options = { at = 2024-05-02T09:00:00+02:00 }

[adapters.carrier]
use = "acme"
options = { account = "C-1", zones = ["EU"] }

[plugins]
allow = ["acme"]
deny = ["legacy"]

[settings]
invoicing_policy = "on_delivery"
out_of_stock = "cancel"
tax_rounding = "per_line"
invoice_series = "RE"
credit_note_series = "GS"
number_format = "{series}{number:05d}"

[settings.ledger]
accounts = { "1210" = "Receivables abroad", "1200" = "Debtors" }
roles = { receivable = "1210" }

[settings.credit]
overdue_grace_days = 10
overdue_limit = "500 EUR"
over_limit = "deny"
tolerance_percent = 5.5

[settings.matching]
min_confidence = 0.9
combination_size = 3
write_off_absolute = "1.00 EUR"
write_off_percent = 1

[settings.dunning]
charge_terms_days = 10

[[settings.dunning.levels]]
number = 1
days = 7
template = "dunning.level_1"

[[settings.dunning.levels]]
number = 2
days = 21
template = "dunning.level_2"
fee = ["5.00 EUR"]
interest_percent = 8
actions = ["credit_hold"]

[settings.calendar]
weekend = ["friday", "saturday"]
holidays = [2024-12-25]

[settings.ship_from]
city = "Bremen"
postcode = "28195"
"""


def test_an_empty_configuration_is_the_in_memory_setup() -> None:
    for config in (Config(), Config.from_mapping({}), Config.from_toml(""), Config.coerce(None)):
        assert config.adapters == DEFAULT_ADAPTERS
        assert config.settings == Settings()
        assert config.plugins.allow is None
        assert config.plugins.entry_points


def test_every_supported_key_is_read() -> None:
    config = Config.from_toml(FULL)
    assert config.adapter(PortName.CLOCK).options["at"].isoformat() == "2024-05-02T09:00:00+02:00"
    assert config.adapter(PortName.CARRIER) == AdapterChoice(
        "acme", {"account": "C-1", "zones": ["EU"]}
    )
    assert config.adapter(PortName.LEDGER) == AdapterChoice("memory")
    assert (config.plugins.allow, config.plugins.deny) == (("acme",), ("legacy",))
    s = config.settings
    assert s.invoicing_policy is InvoicingPolicy.ON_DELIVERY
    assert s.out_of_stock is OutOfStockPolicy.CANCEL
    assert s.tax_rounding is TaxRounding.PER_LINE
    assert (s.invoice_series, s.credit_note_series) == ("RE", "GS")
    assert s.number_format.format(series="RE", number=7) == "RE00007"
    assert s.chart.code(AccountRole.RECEIVABLE) == "1210"
    assert s.chart.name("1200") == "Debtors"
    assert s.chart.code(AccountRole.BANK) == ChartOfAccounts.default().code(AccountRole.BANK)
    policies = s.credit_policy.policies
    assert policies[1] == OverdueHold(10, money("500", "EUR"))
    inner = policies[2].credit_checks  # type: ignore[attr-defined]
    assert isinstance(inner, CreditPolicySet)
    assert inner.policies[1] == LimitCheck(CreditOutcome.DENY, Decimal("5.5"))
    assert s.matching.min_confidence == Decimal("0.9")
    assert s.matching.combination_size == 3
    assert s.matching.tolerance.absolute == money("1.00", "EUR")
    assert s.matching.tolerance.percent == Decimal(1)
    dunning = s.dunning_policy
    assert dunning is not None
    assert [level.days for level in dunning.levels] == [7, 21]
    assert dunning.levels[1].fee.fee_for(money("100", "EUR")) == money("5.00", "EUR")
    assert dunning.levels[1].interest_percent == Decimal(8)
    assert dunning.levels[1].actions == frozenset({DunningAction.CREDIT_HOLD})
    assert dunning.charge_terms_days == 10
    assert s.calendar is not None
    assert s.calendar.weekend == frozenset({Weekday.FRIDAY, Weekday.SATURDAY})
    assert s.calendar.holidays == frozenset({date(2024, 12, 25)})
    assert (s.ship_from.city, s.ship_from.street) == ("Bremen", Settings().ship_from.street)


def test_credit_defaults_equal_the_domain_default_policy() -> None:
    assert Config.from_toml("[settings.credit]\n").settings.credit_policy == default_credit_policy()


def test_a_file_is_read_and_a_path_is_accepted_by_coerce(tmp_path: Path) -> None:
    path = tmp_path / "o2c.toml"
    path.write_text('[adapters]\nclock = "fixed"\n', encoding="utf-8")
    assert Config.from_file(path).adapter(PortName.CLOCK).name == "fixed"
    assert Config.coerce(str(path)).adapter(PortName.CLOCK).name == "fixed"
    with pytest.raises(ConfigError) as caught:
        Config.from_file(tmp_path / "missing.toml")
    assert caught.value.key == "<file>"


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("colour = 1", "colour", "unknown key"),
        ("[adapters]\nprinter = 'x'", "adapters.printer", "unknown key"),
        ("[adapters.carrier]\nuse = 'x'\nzone = 1", "adapters.carrier.zone", "unknown key"),
        ("[adapters.carrier]\noptions = {}", "adapters.carrier.use", "name the adapter"),
        ("[adapters.carrier]\nuse = 3", "adapters.carrier.use", "must be text"),
        ("[adapters.carrier]\nuse = 'x'\noptions = 3", "adapters.carrier.options", "table"),
        ("[plugins]\nallow = 'acme'", "plugins.allow", "must be a list"),
        ("[plugins]\ndeny = [1]", "plugins.deny[0]", "must be text"),
        ("[settings]\ninvoice_series = 1", "settings.invoice_series", "must be text"),
        ("[settings]\ninvoicing_policy = 'later'", "settings.invoicing_policy", "on_order"),
        ("[settings]\nnumber_format = '{serie}'", "settings.number_format", "serie"),
        ("[settings.credit]\nover_limit = 'maybe'", "settings.credit.over_limit", "review"),
        ("[settings.credit]\noverdue_limit = 500", "settings.credit.overdue_limit", "text"),
        (
            "[settings.credit]\noverdue_grace_days = '3'",
            "settings.credit.overdue_grace_days",
            "whole number",
        ),
        ("[settings.matching]\nmin_confidence = 2", "settings.matching", "min_confidence"),
        ("[settings.matching]\nfuzzy = 1", "settings.matching.fuzzy", "unknown key"),
        ("[settings.ledger.roles]\nreceivable = '9999'", "settings.ledger.roles", "9999"),
        ("[settings.ledger.roles]\nincome = '4000'", "settings.ledger.roles.income", "unknown"),
        (
            "[settings.dunning]\n[[settings.dunning.levels]]\nnumber = 1\ndays = 0\ntemplate = 'x'",
            "settings.dunning.levels",
            "at least 1 day",
        ),
        (
            "[settings.dunning]\n[[settings.dunning.levels]]\ndays = 3",
            "settings.dunning.levels[0]",
            "number and a template",
        ),
        (
            (
                "[settings.dunning]\n[[settings.dunning.levels]]\nnumber = 1\ndays = 3\n"
                "template = 'x'\nfee = ['5 EURO']"
            ),
            "settings.dunning.levels[0].fee[0]",
            "EURO",
        ),
        ("[settings.calendar]\nholidays = ['2024-12-25']", "settings.calendar.holidays[0]", "date"),
        ("[settings.ship_from]\ncountry = 'Germany'", "settings.ship_from.country", "ISO"),
        ("[settings]\nledger = 3", "settings.ledger", "must be a table"),
        ("not toml at all", "<toml>", "not valid TOML"),
    ],
)
def test_errors_name_the_key_at_fault(text: str, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_toml(text)
    assert caught.value.key == key
    assert fragment in str(caught.value)


def test_a_float_from_a_mapping_is_refused_but_toml_decimals_are_exact() -> None:
    with pytest.raises(ConfigError, match="float") as caught:
        Config.from_mapping({"settings": {"matching": {"min_confidence": 0.9}}})
    assert caught.value.key == "settings.matching.min_confidence"
    config = Config.from_toml("[settings.matching]\nfuzzy_margin = 0.07")
    assert config.settings.matching.fuzzy_margin == Decimal("0.07")


def test_a_mapping_may_use_a_plain_adapter_name() -> None:
    config = Config.from_mapping({"adapters": {"inventory": "warehouse"}})
    assert config.adapter(PortName.INVENTORY) == AdapterChoice("warehouse")
