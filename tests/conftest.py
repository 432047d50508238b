"""Test-suite wide settings: hypothesis profiles for CI (thorough) and local runs (quick), a
throwaway PostgreSQL database for the tests marked ``postgres``, and a RabbitMQ broker for the
tests marked ``rabbitmq``.

The PostgreSQL tests run against the server named by ``O2C_TEST_POSTGRES_URL`` (by default the
local one on 127.0.0.1:5432). When it cannot be reached they are skipped and the end of the run
says so in one line; with ``O2C_REQUIRE_POSTGRES=1`` (as in CI) an unreachable server fails them
instead, so a run that silently skipped PostgreSQL can never pass.

The RabbitMQ tests likewise use the broker named by ``O2C_TEST_RABBITMQ_URL`` (by default the local
one on 127.0.0.1:5672, guest/guest), each on exchanges and queues named for the test run alone;
``O2C_REQUIRE_RABBITMQ=1`` turns an unreachable broker from a skip into a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from psycopg import sql

settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Every skip for a missing server carries this text: the end-of-run summary counts them by it,
# which also works when the reports come from other processes.
POSTGRES_UNREACHABLE = "PostgreSQL was not reachable at"


def _server_url() -> sa.URL:
    """The SQLAlchemy URL of the maintenance database the throwaway databases are created from."""
    return sa.make_url(os.environ.get("O2C_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def _host_and_port(url: sa.URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _libpq_conninfo(url: sa.URL) -> str:
    """The same URL in the form psycopg takes (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_required() -> bool:
    return os.environ.get("O2C_REQUIRE_POSTGRES", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a database created for this test session and dropped after it.

    Skips the requesting test when the server cannot be reached (fails it instead when
    ``O2C_REQUIRE_POSTGRES=1``). Tests using it are marked ``postgres`` at collection.
    """
    server = _server_url()
    try:
        admin = psycopg.connect(_libpq_conninfo(server), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = (
            f"{POSTGRES_UNREACHABLE} {_host_and_port(server)} ({cause}); "
            "set O2C_TEST_POSTGRES_URL or start the server"
        )
        # `from None`: the report shows this one line, not psycopg's traceback.
        if _postgres_required():
            raise pytest.fail.Exception(
                f"{reason}; O2C_REQUIRE_POSTGRES is set", pytrace=False
            ) from None
        raise pytest.skip.Exception(reason) from None

    name = f"o2c_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: a connection a failing test left open must not keep the database alive.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on the session's throwaway PostgreSQL database."""
    engine = sa.create_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
RABBITMQ_UNREACHABLE = "RabbitMQ was not reachable at"


def _broker_url() -> str:
    return os.environ.get("O2C_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL)


def _broker_address(url: str) -> str:
    parsed = urlsplit(url)
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 5672}"


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The AMQP URL of a reachable RabbitMQ broker.

    Skips the requesting test when the broker cannot be reached (fails it instead when
    ``O2C_REQUIRE_RABBITMQ=1``). Tests name their own exchanges and queues after a random token,
    so runs never see each other's messages. Tests using it are marked ``rabbitmq``.
    """
    import pika  # noqa: PLC0415 - the broker extra; only the tests that ask for a broker need it
    from pika import exceptions  # noqa: PLC0415

    url = _broker_url()
    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    try:
        pika.BlockingConnection(parameters).close()
    except (exceptions.AMQPError, OSError) as error:
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0] or repr(error)
        reason = (
            f"{RABBITMQ_UNREACHABLE} {_broker_address(url)} ({cause}); "
            "set O2C_TEST_RABBITMQ_URL or start the broker"
        )
        if os.environ.get("O2C_REQUIRE_RABBITMQ", "") not in ("", "0"):
            raise pytest.fail.Exception(
                f"{reason}; O2C_REQUIRE_RABBITMQ is set", pytrace=False
            ) from None
        raise pytest.skip.Exception(reason) from None
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the throwaway database ``postgres`` and every test that uses
    the broker ``rabbitmq``, so ``-m`` can select them."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "rabbitmq_url" in fixtures:
            item.add_marker(pytest.mark.rabbitmq)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """Say plainly, in one line each, that PostgreSQL or RabbitMQ tests were skipped for want
    of a server."""
    # The outermost wrapper (tryfirst) writes last: after the short summary, above the counts.
    yield
    reports = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report, pytest.TestReport)
    ]
    skipped = [r for r in reports if POSTGRES_UNREACHABLE in _skip_reason(r)]
    if skipped:
        count = len(skipped)
        terminalreporter.write_line(
            f"{POSTGRES_UNREACHABLE} {_host_and_port(_server_url())}: "
            f"{count} PostgreSQL {'test' if count == 1 else 'tests'} skipped "
            "(set O2C_TEST_POSTGRES_URL or start the server)"
        )
    skipped = [r for r in reports if RABBITMQ_UNREACHABLE in _skip_reason(r)]
    if skipped:
        count = len(skipped)
        terminalreporter.write_line(
            f"{RABBITMQ_UNREACHABLE} {_broker_address(_broker_url())}: "
            f"{count} RabbitMQ {'test' if count == 1 else 'tests'} skipped "
            "(set O2C_TEST_RABBITMQ_URL or start the broker)"
        )
