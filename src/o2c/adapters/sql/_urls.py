"""Turning what a user types (``--db books.db``, a URL) into a database URL, and back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["database_url", "is_sqlite", "is_sqlite_file", "shown"]


def database_url(value: str | Path) -> URL:
    """The URL of a database: a value without ``://`` is the path of a SQLite file.

    ``postgresql://`` (and ``postgres://``) URLs use psycopg 3.

    ``ValueError`` if the value is neither a path nor a URL SQLAlchemy understands.
    """
    text = str(value)
    if "://" not in text:
        if not text.strip():
            raise ValueError("a database path or URL is needed")
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError as error:
        raise ValueError(f"not a database URL: {shown_text(text)}") from error
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, the driver o2c[sql] brings
    return url


def is_sqlite(url: URL) -> bool:
    """Whether the URL names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def is_sqlite_file(url: URL) -> bool:
    """Whether the URL names a SQLite database kept in a file (not in memory)."""
    database = url.database or ""
    return is_sqlite(url) and database not in ("", ":memory:") and "mode=memory" not in database


def shown(url: URL) -> str:
    """The URL as messages show it: without its password."""
    return url.render_as_string(hide_password=True)


def shown_text(text: str) -> str:
    """A URL that may not parse, shown without what looks like a password."""
    scheme, sep, rest = text.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return text
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
