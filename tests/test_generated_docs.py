"""The lifecycle tables in the docs are the ones in the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from o2c.domain.lifecycles import LIFECYCLES, markdown_page

SVG = "{http://www.w3.org/2000/svg}"
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
        assert f"```{{lifecycle-diagram}} {name}\n```" in page


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


def _diagram_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "docs" / "_ext" / "lifecycle_diagrams.py"
    spec = importlib.util.spec_from_file_location("lifecycle_diagrams", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_diagram_is_well_formed_svg_naming_every_state_and_trigger() -> None:
    diagrams = _diagram_module()
    for name, lifecycle in LIFECYCLES.items():
        svg = ElementTree.fromstring(diagrams.render_svg(name))
        text = " ".join("".join(node.itertext()) for node in svg.iter(f"{SVG}text"))
        rects = list(svg.iter(f"{SVG}rect"))
        assert len(rects) == len(lifecycle.states), name
        for state in lifecycle.states:
            assert state.value in text, (name, state)
        for transition in lifecycle.transitions:
            assert transition.trigger.value in text, (name, transition)
