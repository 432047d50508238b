"""The lifecycle tables in the docs are the ones in the code."""

from __future__ import annotations

from pathlib import Path

from o2c.domain.lifecycles import LIFECYCLES, markdown_page

PAGE = Path(__file__).resolve().parents[1] / "docs" / "lifecycles.md"


def test_lifecycle_page_matches_the_code() -> None:
    assert PAGE.read_text(encoding="utf-8") == markdown_page(), (
        "docs/lifecycles.md is out of date: run python scripts/generate_docs.py"
    )


def test_every_lifecycle_is_documented_with_its_table() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for name, lifecycle in LIFECYCLES.items():
        assert f"## {name}" in page
        assert lifecycle.markdown() in page
        assert lifecycle.mermaid() in page


def test_every_state_is_reachable_from_the_initial_state() -> None:
    for name, lifecycle in LIFECYCLES.items():
        reached = {lifecycle.initial}
        frontier = [lifecycle.initial]
        while frontier:
            state = frontier.pop()
            for trigger in lifecycle.allowed(state):
                target = lifecycle.next_state(state, trigger)
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
        unreachable = set(lifecycle.states) - reached
        assert not unreachable, f"{name}: unreachable states {sorted(s.name for s in unreachable)}"
