"""``retrying`` keeps the types of what it runs (mypy --strict checks this file)."""

from __future__ import annotations

from typing import assert_type

from o2c import retrying


def _invoice(order_id: str, *, copies: int) -> int:
    return copies


assert_type(retrying(lambda: "SO-1"), str)
retried = retrying(attempts=3)(_invoice)
assert_type(retried("SO-1", copies=2), int)
retried("SO-1", copies="two")  # type: ignore[arg-type]
