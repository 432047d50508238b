"""Inputs that used to escape as bare Python errors are refused with a typed o2c error.

Each case goes through the public entry point a caller would use, checks the error's family and
message, and checks that nothing changed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.config import Config, ConfigError
from o2c.domain.errors import InvalidAmount, O2CError
from o2c.domain.money import Money, Rounding, money, quantize
from o2c.domain.receipts import Payer, Receipt
from o2c.ports.errors import AdapterRejected
from o2c.services import Settings
from o2c.services.errors import InvalidSettings, MissingIdempotencyKey, UnknownInvoice

# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity", Decimal("NaN")])
def test_money_that_is_not_a_finite_number_is_refused(amount: str | Decimal) -> None:
    with pytest.raises(InvalidAmount, match="finite"):
        Money(amount, "EUR")


def test_money_from_text_that_is_no_number_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="not a number"):
        Money("twelve", "EUR")


@pytest.mark.parametrize("factor", [Decimal("Infinity"), Decimal("NaN")])
def test_arithmetic_never_makes_money_infinite(factor: Decimal) -> None:
    with pytest.raises(InvalidAmount, match="finite"):
        money("10.00", "EUR") * factor


@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("NaN")])
def test_quantizing_a_number_that_is_not_finite_is_refused(value: Decimal) -> None:
    with pytest.raises(InvalidAmount, match="finite"):
        quantize(value, Rounding.HALF_UP, "EUR")


# --- idempotency keys -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", "\t\n", None, 7])
def test_a_command_without_a_usable_idempotency_key_is_refused(world: World, key: object) -> None:
    world.customer()
    before = world.snapshot()
    with pytest.raises(MissingIdempotencyKey, match="place_order"):
        world.services.orders.place_order(
            "SO-1",
            "C-1",
            [widget_line()],
            idempotency_key=key,  # type: ignore[arg-type]  # what an untyped caller may send
        )
    assert world.snapshot() == before


# --- webhooks -------------------------------------------------------------------------------


def _pending_delivery(world: World) -> tuple[bytes, dict[str, str]]:
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="o")
    world.services.cards.authorise("SO-1", "tok_pending", idempotency_key="a")
    (delivery,) = world.gateway.pending_webhooks()
    return delivery.payload, dict(delivery.headers)


def test_a_webhook_with_a_non_ascii_signature_is_rejected(world: World) -> None:
    payload, headers = _pending_delivery(world)
    before = world.snapshot()
    forged = {name: value + "é" for name, value in headers.items()}
    with pytest.raises(AdapterRejected) as caught:
        world.services.cards.handle_webhook(payload, forged)
    assert caught.value.code in {"malformed_signature", "bad_signature"}
    assert world.snapshot() == before


def test_a_webhook_whose_payload_is_text_not_bytes_is_rejected(world: World) -> None:
    payload, headers = _pending_delivery(world)
    before = world.snapshot()
    with pytest.raises(AdapterRejected, match="bytes") as caught:
        world.services.cards.handle_webhook(payload.decode(), headers)  # type: ignore[arg-type]
    assert caught.value.code == "malformed_payload"
    assert world.snapshot() == before


def test_webhook_headers_that_are_no_mapping_are_rejected(world: World) -> None:
    payload, _ = _pending_delivery(world)
    with pytest.raises(AdapterRejected, match="headers"):
        world.services.cards.handle_webhook(payload, None)  # type: ignore[arg-type]


# --- cash application -----------------------------------------------------------------------


def test_applying_cash_to_an_unknown_invoice_is_refused(world: World) -> None:
    world.customer()
    line = Receipt("R-1", eur("50.00"), world.today(), "stmt-1", Payer(), reference="nothing")
    world.services.cash.import_receipts([line], idempotency_key=world.key())
    before = world.snapshot()
    with pytest.raises(UnknownInvoice, match="INV-999999"):
        world.services.cash.apply_receipt("R-1", "INV-999999", idempotency_key=world.key())
    assert world.snapshot() == before


# --- document numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"number_format": "{series}-X"}, "number_format", "{number}"),
        ({"number_format": "INV-{number:06d}"}, "number_format", "{series}"),
        ({"number_format": "{series}-{number:.0s}"}, "number_format", "{number}"),
        ({"invoice_series": ""}, "invoice_series", "empty"),
        ({"credit_note_series": "  "}, "credit_note_series", "empty"),
    ],
)
def test_settings_that_cannot_number_documents_are_refused(
    changes: dict[str, str], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidSettings) as caught:
        Settings(**changes)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[settings]\nnumber_format = '{series}'", "settings.number_format"),
        ("[settings]\ninvoice_series = ''", "settings.invoice_series"),
        ("[settings]\ncredit_note_series = ''", "settings.credit_note_series"),
    ],
)
def test_configured_numbering_that_cannot_work_names_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_toml(text)
    assert caught.value.key == key


def test_distinct_numbers_give_distinct_document_numbers() -> None:
    world = build_world(Settings(number_format="{series}/{number}"))
    world.customer()
    s = world.services
    for order in ("SO-1", "SO-2"):
        s.orders.place_order(order, "C-1", [widget_line()], idempotency_key=world.key())
        s.orders.ship_order(order, PARCEL, idempotency_key=world.key())
    first = s.billing.invoice_order("SO-1", idempotency_key=world.key())
    second = s.billing.invoice_order("SO-2", idempotency_key=world.key())
    assert (first.invoice_number, second.invoice_number) == ("INV/1", "INV/2")


# --- configuration files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5_000 + "]" * 5_000,
        "x = " + "{a = " * 5_000 + "1" + "}" * 5_000,
    ],
)
def test_toml_nested_beyond_reason_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigError, match="nested") as caught:
        Config.from_toml(text)
    assert caught.value.key == "<toml>"


def test_a_moderately_deep_table_is_refused_by_depth_not_by_recursion() -> None:
    deep = "[adapters.carrier]\nuse = 'x'\noptions = " + "{a = " * 40 + "1" + "}" * 40
    with pytest.raises(ConfigError, match="nested"):
        Config.from_toml(deep)


def test_a_mapping_nested_into_itself_is_a_configuration_error() -> None:
    options: dict[str, object] = {}
    options["again"] = options
    with pytest.raises(ConfigError, match="nested"):
        Config.from_mapping({"adapters": {"carrier": {"use": "x", "options": options}}})


def test_a_config_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "o2c.toml"
    path.write_bytes(b'[settings]\ninvoice_series = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="UTF-8") as caught:
        Config.from_file(path)
    assert caught.value.key == "<file>"


def test_toml_given_as_bytes_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="text"):
        Config.from_toml(b"[settings]")  # type: ignore[arg-type]


def test_every_refusal_here_is_an_o2c_error() -> None:
    for family in (InvalidAmount, MissingIdempotencyKey, AdapterRejected, UnknownInvoice):
        assert issubclass(family, O2CError)
    assert issubclass(InvalidSettings, O2CError)
    assert issubclass(ConfigError, O2CError)
