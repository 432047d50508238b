"""A book kept in SQL: SQLite (embedded, a file) or PostgreSQL, through SQLAlchemy Core.

:class:`SqlStore` opens a database (``SqlStore("books.db")`` or
``SqlStore("postgresql+psycopg://user@host/books")``) and hands out :class:`SqlUnitOfWork` units
of work that satisfy :class:`o2c.ports.persistence.UnitOfWork`. Each value is stored whole, as a
document in the canonical JSON of :mod:`o2c.codec`, beside indexed columns for what the named
queries filter on (:mod:`o2c.adapters.indexing`). The schema is migrated with Alembic, shipped in
this package: :func:`upgrade` (``o2c db upgrade``) brings a database to this version's schema.
:class:`SqlLedger` keeps the journal behind the ledger port in the same kind of database.

This package needs the ``sql`` extra: ``pip install 'o2c[sql]'``.
"""

from __future__ import annotations

import importlib.util

from o2c.ports.errors import AdapterRejected

INSTALL_HINT = "the SQL store needs the 'sql' extra; install it with: pip install 'o2c[sql]'"

if any(importlib.util.find_spec(name) is None for name in ("sqlalchemy", "alembic")):
    raise AdapterRejected("sql", INSTALL_HINT, "missing_extra")

from o2c.adapters.sql._urls import database_url  # noqa: E402
from o2c.adapters.sql.ledger import SqlLedger  # noqa: E402
from o2c.adapters.sql.migrations import head_revision, known_revisions  # noqa: E402
from o2c.adapters.sql.store import (  # noqa: E402
    BUSY_TIMEOUT_SECONDS,
    CannotOpenStore,
    ForeignDatabase,
    ReadOnlyStore,
    SchemaMismatch,
    SchemaOutdated,
    SchemaTooNew,
    SqlStore,
    SqlUnitOfWork,
    UnreadableDocument,
    current_revision,
    upgrade,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "INSTALL_HINT",
    "SqlLedger",
    "SqlStore",
    "SqlUnitOfWork",
    "current_revision",
    "database_url",
    "head_revision",
    "known_revisions",
    "upgrade",
    "CannotOpenStore",
    "ForeignDatabase",
    "ReadOnlyStore",
    "SchemaMismatch",
    "SchemaOutdated",
    "SchemaTooNew",
    "UnreadableDocument",
]
