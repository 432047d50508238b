"""Choosing the SQL store and ledger through configuration, and what happens without the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import o2c
from o2c.adapters.memory import MemoryLedger
from o2c.adapters.sql import SqlLedger, SqlStore
from o2c.config import Config, ConfigError
from o2c.ports.registry import PortName


def _store_of(app: o2c.App) -> SqlStore:
    store = getattr(app.adapters.unit_of_work, "__self__", None)
    assert isinstance(store, SqlStore)
    return store


def test_persistence_and_ledger_share_one_database(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    with o2c.bootstrap(
        {
            "adapters": {
                "persistence": {"use": "sql", "options": {"url": str(path)}},
                "ledger": "sql",
            }
        }
    ) as app:
        ledger = app.adapters.ledger
        assert isinstance(ledger, SqlLedger)
        assert ledger.engine is _store_of(app).engine
        assert app.chosen["unit_of_work"] == app.chosen["ledger"] == "sql"
    assert path.exists()


def test_the_same_url_in_both_shares_the_engine_and_another_url_does_not(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    with o2c.bootstrap(
        {
            "adapters": {
                "unit_of_work": {"use": "sql", "options": {"url": url}},
                "ledger": {"use": "sql", "options": {"url": str(tmp_path / "books.db")}},
            }
        }
    ) as same:
        assert isinstance(same.adapters.ledger, SqlLedger)
        assert same.adapters.ledger.engine is _store_of(same).engine
    with o2c.bootstrap(
        {
            "adapters": {
                "persistence": {"use": "sql", "options": {"url": url}},
                "ledger": {"use": "sql", "options": {"url": str(tmp_path / "journal.db")}},
            }
        }
    ) as other:
        assert isinstance(other.adapters.ledger, SqlLedger)
        assert other.adapters.ledger.engine is not _store_of(other).engine
    assert (tmp_path / "journal.db").exists()


def test_closing_the_app_releases_the_connections_of_what_it_built(tmp_path: Path) -> None:
    journal = SqlLedger(f"sqlite:///{tmp_path / 'journal.db'}")
    config = {
        "adapters": {"persistence": {"use": "sql", "options": {"url": str(tmp_path / "b.db")}}}
    }
    with journal, o2c.bootstrap(config, ledger=journal) as app:
        store = _store_of(app)
        with store.unit_of_work() as uow:
            uow.commit()
        journal.engine.connect().close()
        assert store.engine.pool.checkedin() == journal.engine.pool.checkedin() == 1
        app.close()
        app.close()  # twice is harmless
        assert store.engine.pool.checkedin() == 0
        # The ledger was passed in: it is the caller's to close.
        assert journal.engine.pool.checkedin() == 1
    assert journal.engine.pool.checkedin() == 0


def test_toml_names_the_port_persistence() -> None:
    config = Config.from_toml('[adapters.persistence]\nuse = "sql"\noptions = { url = "b.db" }\n')
    choice = config.adapter(PortName.UNIT_OF_WORK)
    assert (choice.name, dict(choice.options)) == ("sql", {"url": "b.db"})


def test_persistence_and_unit_of_work_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"adapters\.persistence"):
        Config.from_mapping({"adapters": {"persistence": "memory", "unit_of_work": "memory"}})


def test_without_configuration_the_books_stay_in_memory() -> None:
    app = o2c.bootstrap()
    assert app.chosen["unit_of_work"] == "memory"
    assert isinstance(app.adapters.ledger, MemoryLedger)


def test_a_ledger_without_a_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"adapters\.ledger\.options.*url"):
        o2c.bootstrap({"adapters": {"ledger": "sql"}})


def test_a_schema_newer_than_the_code_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    SqlStore(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE o2c_schema SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(ConfigError, match="newer than this o2c"):
        o2c.bootstrap({"adapters": {"persistence": {"use": "sql", "options": {"url": str(path)}}}})


def test_without_the_sql_extra_choosing_sql_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [name for name in sys.modules if name.startswith("o2c.adapters.sql")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(ConfigError, match=r"pip install 'o2c\[sql\]'"):
        o2c.bootstrap(
            {"adapters": {"persistence": {"use": "sql", "options": {"url": str(tmp_path / "b")}}}}
        )
    assert o2c.bootstrap().chosen["unit_of_work"] == "memory"
