"""Alembic's environment for a SQL book.

o2c runs it programmatically (:func:`o2c.adapters.sql.upgrade`, ``o2c db upgrade``), handing over
an open connection in ``config.attributes["connection"]``; no ``alembic.ini`` is involved.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from o2c.adapters.sql.schema import VERSION_TABLE, metadata


def run_migrations() -> None:
    """Upgrade the database behind the connection o2c passed in, in its transaction."""
    if context.is_offline_mode():
        raise RuntimeError("o2c migrations run against a database, not as SQL scripts")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run o2c migrations through o2c.adapters.sql.upgrade(url)")
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
