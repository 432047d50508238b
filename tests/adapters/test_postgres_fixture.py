"""The session's throwaway PostgreSQL database is real, writable and not the shared one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres


def test_the_session_database_is_a_fresh_throwaway_one(postgres_url: str) -> None:
    expected = sa.make_url(postgres_url).database
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            current = connection.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()

    assert current == expected
    assert current != "test"
    assert current.startswith("o2c_test_")


def test_a_row_written_in_the_session_database_reads_back(postgres_engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    probes = sa.Table(
        "fixture_probe",
        metadata,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
    )
    with postgres_engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(sa.insert(probes).values(key="INV-1", open_minor=123_456_789_012))

    with postgres_engine.connect() as connection:
        rows = connection.execute(sa.select(probes.c.key, probes.c.open_minor)).all()
        database = connection.execute(sa.text("SELECT current_database()")).scalar_one()

    assert [tuple(row) for row in rows] == [("INV-1", 123_456_789_012)]
    assert database != "test"

    with postgres_engine.begin() as connection:
        metadata.drop_all(connection)
