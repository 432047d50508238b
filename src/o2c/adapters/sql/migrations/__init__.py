"""The Alembic environment and revisions of a SQL book, run by :func:`o2c.adapters.sql.upgrade`."""
