"""The ``o2c`` command: each subcommand's output, its JSON, its errors and exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from o2c.cli.app import EXIT_PLUGIN, EXIT_REFUSED, EXIT_USAGE, cli
from o2c.domain.lifecycles import LIFECYCLES


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("demo", "terms", "states", "plugins", "simulate"):
        assert command in result.output
        assert run(command, "--help").exit_code == 0


def test_an_unknown_command_is_a_usage_error() -> None:
    result = run("invoice-everything")
    assert result.exit_code == EXIT_USAGE
    assert "No such command" in result.output


# --- terms ----------------------------------------------------------------------------------


def test_terms_shows_the_schedule_with_its_discount() -> None:
    result = run("terms", "2/10 NET 30", "--amount", "1000 EUR", "--date", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert "2026-12-23" in result.output
    assert "2026-12-03" in result.output
    assert "20.00 EUR" in result.output
    assert "980.00 EUR" in result.output


@pytest.mark.parametrize(
    "amount",
    [
        ("--amount", "1000 EUR"),
        ("--amount", "1000", "EUR"),
        ("--amount", "1000", "--currency", "EUR"),
    ],
    ids=["quoted", "two-words", "currency-option"],
)
def test_terms_takes_the_amount_three_ways(amount: tuple[str, ...]) -> None:
    record = as_json(run("terms", "2/10 NET 30", *amount, "--date", "2026-11-23", "--json"))
    assert record["total"] == {"amount": "1000.00", "currency": "EUR"}
    (part,) = record["instalments"]
    assert part["due_date"] == "2026-12-23"
    (tier,) = part["discounts"]
    assert tier == {
        "percent": "2",
        "deadline": "2026-12-03",
        "discount": {"amount": "20.00", "currency": "EUR"},
        "pay": {"amount": "980.00", "currency": "EUR"},
    }


def test_terms_split_adds_up_exactly_and_holidays_move_due_dates() -> None:
    plain = as_json(
        run("terms", "30/60/90", "--amount", "100 EUR", "--date", "2026-11-25", "--json")
    )
    assert [p["amount"]["amount"] for p in plain["instalments"]] == ["33.34", "33.33", "33.33"]
    assert plain["instalments"][0]["due_date"] == "2026-12-25"
    moved = as_json(
        run(
            "terms",
            "30/60/90",
            "--amount",
            "100 EUR",
            "--date",
            "2026-11-25",
            "--calendar-holidays",
            "2026-12-25,2026-12-26",
            "--json",
        )
    )
    # the 25th and 26th are holidays and the 27th a Sunday
    assert moved["instalments"][0]["due_date"] == "2026-12-28"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--amount", "1000", "--date", "2026-11-23"), "has no currency"),
        (("--amount", "1000 EUR", "--date", "2026-13-01"), "not a date"),
        (("--amount", "ten EUR", "--date", "2026-11-23"), "--amount"),
        (("--amount", "1000 EUR", "--currency", "USD", "--date", "2026-11-23"), "USD"),
        (("--amount", "1000", "EUR", "extra", "--date", "2026-11-23"), "unexpected"),
        (("--date", "2026-11-23"), "--amount"),
    ],
)
def test_terms_usage_mistakes_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    result = run("terms", "NET 30", *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreadable_terms_are_a_usage_error_naming_the_notation() -> None:
    result = run("terms", "2/10 NOT 30", "--amount", "1000 EUR", "--date", "2026-11-23")
    assert result.exit_code == EXIT_USAGE
    assert "NOTATION" in result.output
    assert "NET 30" in result.output


def test_a_total_the_domain_refuses_exits_1() -> None:
    result = run("terms", "NET 30", "--amount", "-5 EUR", "--date", "2026-11-23")
    assert result.exit_code == EXIT_REFUSED
    assert result.output.startswith("Error: ")
    assert "positive" in result.output
    assert "Traceback" not in result.output


# --- states ---------------------------------------------------------------------------------


def test_states_prints_every_lifecycle() -> None:
    result = run("states")
    assert result.exit_code == 0
    for name in LIFECYCLES:
        assert f"{name}: starts in" in result.output


def test_states_json_matches_the_catalogue() -> None:
    record = as_json(run("states", "--json"))
    assert list(record) == list(LIFECYCLES)
    invoice = record["invoice"]
    assert invoice["initial"] == "draft"
    assert len(invoice["transitions"]) == len(LIFECYCLES["invoice"].transitions)
    assert {"from": "draft", "trigger": "issue", "to": "issued"} in invoice["transitions"]


def test_states_of_one_lifecycle_as_mermaid() -> None:
    result = run("states", "order", "--mermaid")
    assert result.exit_code == 0
    assert result.output.strip().endswith(LIFECYCLES["order"].mermaid())
    assert "%% invoice" not in result.output


def test_an_unknown_lifecycle_lists_the_known_names() -> None:
    result = run("states", "shipment")
    assert result.exit_code == EXIT_USAGE
    assert "no lifecycle named 'shipment'" in result.output
    assert ", ".join(LIFECYCLES) in result.output


# --- plugins --------------------------------------------------------------------------------


def test_plugins_lists_the_builtin_adapters_and_their_ports() -> None:
    result = run("plugins", "--no-entry-points")
    assert result.exit_code == 0, result.output
    assert "builtin" in result.output
    for port in ("unit_of_work", "inventory", "carrier", "payment_gateway", "ledger", "clock"):
        assert port in result.output


def test_plugins_json_marks_the_adapters_in_use() -> None:
    record = as_json(run("plugins", "--no-entry-points", "--json"))
    builtin = next(p for p in record["plugins"] if p["name"] == "builtin")
    clocks = {a["name"]: a["in_use"] for a in builtin["adapters"] if a["port"] == "clock"}
    assert clocks == {"system": True, "fixed": False}
    assert record["chosen"]["carrier"] == "table-rate"


def test_a_configuration_mistake_exits_2(tmp_path: Any) -> None:
    config = tmp_path / "o2c.toml"
    config.write_text('[adapters]\ncarrier = "pigeon"\n', encoding="utf-8")
    result = run("plugins", "--config", str(config), "--no-entry-points")
    assert result.exit_code == EXIT_USAGE
    assert "pigeon" in result.output
    assert "table-rate" in result.output


def test_a_failing_plugin_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import o2c  # noqa: PLC0415
    from o2c.ports.errors import PluginError  # noqa: PLC0415

    def broken(*args: object, **kwargs: object) -> object:
        raise PluginError("acme", "o2c_register_adapters", "database unreachable")

    monkeypatch.setattr(o2c, "bootstrap", broken)
    result = run("plugins")
    assert result.exit_code == EXIT_PLUGIN
    assert "plugin 'acme' failed in o2c_register_adapters: database unreachable" in result.output
