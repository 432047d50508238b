"""The ``lifecycle-diagram`` directive: a lifecycle drawn as inline SVG when the site is built.

The diagram is computed from the lifecycle table in the code, so it cannot drift from it, and it
is plain SVG inside the page, so it shows without JavaScript or a network. States are laid out
left to right in layers (a state's layer is its distance from the initial state); transitions
between the same two states share one arrow whose label lists their triggers; triggers that keep
a state where it is are written inside the state's box instead of as loops, which is what made
the larger lifecycles unreadable as free-form graphs.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from html import escape
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

from o2c.domain.lifecycles import LIFECYCLES

CHAR_WIDTH = 7.2  # an average glyph of the 12 px sans-serif face
LINE_HEIGHT = 15
NODE_HEIGHT = 34
LAYER_GAP = 150
ROW_GAP = 40
MARGIN = 30
START_RADIUS = 7
ARC_STEP = 26

Edges = dict[tuple[str, str], list[str]]
"""The triggers of each arrow, keyed by (source state, target state)."""


def _label(member: enum.Enum) -> str:
    return member.value if isinstance(member.value, str) else member.name.lower()


FAN_IN = 3
"""A trigger that ends the lifecycle from this many states is written in the final state's box."""


def _wrapped(marker: str, items: list[str], width: int = 26) -> list[str]:
    """``items`` joined with commas over lines of about ``width`` characters, ``marker`` first."""
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(line) + len(item) > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    if line:
        lines.append(line)
    return [(f"{marker} " if i == 0 else "  ") + text for i, text in enumerate(lines)]


class _Box:
    """A state's box: where it is and what it says."""

    def __init__(self, name: str, notes: list[str], final: bool) -> None:
        self.name = name
        self.notes = notes
        self.final = final
        lines = [name, *notes]
        self.width = max(len(line) for line in lines) * CHAR_WIDTH + 24
        self.height = NODE_HEIGHT + LINE_HEIGHT * len(notes)
        self.x = 0.0
        self.y = 0.0


def _layers(initial: str, edges: Edges, states: list[str]) -> dict[str, int]:
    """Each state's column: the longest path to it from the initial state, loops left out.

    Longest rather than shortest paths put a state after everything that leads to it, so most
    arrows point right; an arrow that closes a loop (found by a depth-first walk) points back.
    """
    following: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        following[source].append(target)
    back: set[tuple[str, str]] = set()
    on_path: set[str] = set()
    seen: set[str] = set()

    def walk(state: str) -> None:
        seen.add(state)
        on_path.add(state)
        for target in following[state]:
            if target in on_path:
                back.add((state, target))
            elif target not in seen:
                walk(target)
        on_path.discard(state)

    walk(initial)
    layer = dict.fromkeys(states, 0)
    for _ in states:  # relax |states| times: enough for the longest simple path
        for source, target in edges:
            if (source, target) not in back and layer[target] < layer[source] + 1:
                layer[target] = layer[source] + 1
    return layer


def _order(layer: dict[str, int], edges: Edges, states: list[str]) -> list[list[str]]:
    """States per layer, sorted so that arrows between neighbouring layers cross little."""
    columns: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for state in states:
        columns[layer[state]].append(state)
    position = {state: float(i) for column in columns for i, state in enumerate(column)}
    neighbours: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        neighbours[source].append(target)
        neighbours[target].append(source)
    for _ in range(4):  # a few barycentre sweeps settle these small graphs
        for column in columns[1:]:

            def centre(state: str) -> float:
                around = [position[n] for n in neighbours[state] if layer[n] < layer[state]]
                return sum(around) / len(around) if around else position[state]

            column.sort(key=centre)
            for i, state in enumerate(column):
                position[state] = float(i)
    return columns


def render_svg(name: str) -> str:
    """The SVG diagram of lifecycle ``name``."""
    lifecycle: Any = LIFECYCLES[name]
    states = [_label(s) for s in lifecycle.states]
    initial = _label(lifecycle.initial)
    finals = {_label(s) for s in lifecycle.final_states}
    edges: Edges = defaultdict(list)
    stays: dict[str, list[str]] = defaultdict(list)
    for t in lifecycle.transitions:
        source, target, trigger = _label(t.source), _label(t.target), _label(t.trigger)
        if source == target:
            stays[source].append(trigger)
        elif trigger not in edges[(source, target)]:
            edges[(source, target)].append(trigger)
    layer = _layers(initial, edges, states)
    # A trigger that ends the lifecycle from many states (cancel, expire) would draw a fan of
    # arrows across everything: the final state's box names it and where it comes from instead.
    sources: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (source, target), triggers in edges.items():
        for trigger in triggers:
            sources[(trigger, target)].append(source)
    fan_ins: dict[str, list[str]] = defaultdict(list)
    for (trigger, target), origins in sources.items():
        if len(origins) >= FAN_IN and target in finals:
            fan_ins[target] += _wrapped("←", [f"{trigger} from {origins[0]}", *origins[1:]])
            for origin in origins:
                edges[(origin, target)].remove(trigger)
    edges = defaultdict(list, {pair: triggers for pair, triggers in edges.items() if triggers})
    notes = {s: [*_wrapped("↺", stays[s]), *fan_ins[s]] for s in states}
    boxes = {s: _Box(s, notes[s], s in finals) for s in states}
    columns = _order(layer, edges, states)

    longest_jump = max((layer[t] - layer[s] for s, t in edges), default=0)
    top_room = MARGIN + 20 + (ARC_STEP * longest_jump if longest_jump > 1 else 0)
    widths = [max(boxes[s].width for s in column) for column in columns]
    heights = [
        sum(boxes[s].height for s in column) + ROW_GAP * (len(column) - 1) for column in columns
    ]
    tallest = max(heights)
    x = MARGIN + 2 * START_RADIUS + 40
    for column, width, height in zip(columns, widths, heights, strict=True):
        y = top_room + (tallest - height) / 2
        for state in column:
            box = boxes[state]
            box.x, box.y = x + (width - box.width) / 2, y
            y += box.height + ROW_GAP
        x += width + LAYER_GAP
    total_width = x - LAYER_GAP + MARGIN + 140  # room for labels beside the last column
    total_height = top_room + tallest + MARGIN + 60

    column_tops = [min(boxes[s].y for s in column) for column in columns]
    parts: list[str] = []
    for (source, target), triggers in edges.items():
        parts.append(_arrow(boxes[source], boxes[target], ", ".join(triggers), layer, column_tops))
    parts.extend(_box(box) for box in boxes.values())
    start = boxes[initial]
    sx, sy = MARGIN + START_RADIUS, start.y + NODE_HEIGHT / 2
    parts.append(f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="{START_RADIUS}" class="start"/>')
    parts.append(
        f'<path d="M{sx + START_RADIUS:.1f},{sy:.1f} L{start.x:.1f},{sy:.1f}" class="edge" '
        'marker-end="url(#arrow)"/>'
    )
    title = escape(f"{name} lifecycle")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-diagram" role="img" '
        f'aria-label="{title}" width="{total_width:.0f}" height="{total_height:.0f}" '
        f'viewBox="0 0 {total_width:.0f} {total_height:.0f}" style="max-width:100%;height:auto">'
        f"<title>{title}</title>"
        "<style>"
        ".lifecycle-diagram text{font:12px sans-serif;fill:currentColor}"
        ".lifecycle-diagram .state{fill:none;stroke:currentColor;stroke-width:1.2}"
        ".lifecycle-diagram .final{stroke-width:2.6}"
        ".lifecycle-diagram .stay{font-size:11px;opacity:.75}"
        ".lifecycle-diagram .edge{fill:none;stroke:currentColor;stroke-width:1;opacity:.7}"
        ".lifecycle-diagram .back{stroke-dasharray:4 3}"
        ".lifecycle-diagram .start{fill:currentColor}"
        ".lifecycle-diagram .label{font-size:11px}"
        ".lifecycle-diagram .halo{stroke:var(--color-background-primary,#fff);stroke-width:4;"
        "stroke-linejoin:round;font-size:11px;fill:none}"
        "</style>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="currentColor"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _box(box: _Box) -> str:
    css = "state final" if box.final else "state"
    rect = (
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="8" class="{css}"/>'
    )
    name = (
        f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + 21:.1f}" text-anchor="middle">'
        f"{escape(box.name)}</text>"
    )
    out = [rect, name]
    for i, line in enumerate(box.notes, start=1):
        out.append(
            f'<text x="{box.x + 12:.1f}" y="{box.y + 21 + i * LINE_HEIGHT:.1f}" class="stay" '
            f'xml:space="preserve">{escape(line)}</text>'
        )
    return "".join(out)


def _apex(y1: float, y2: float, control: float) -> float:
    """Where a cubic curve whose two control points both lie at ``control`` turns."""
    return (y1 + y2) / 8 + 0.75 * control


def _arrow(
    source: _Box, target: _Box, label: str, layer: dict[str, int], column_tops: list[float]
) -> str:
    span = layer[target.name] - layer[source.name]
    if span > 1:
        # Over the columns between, so the arrow never runs through a box; longer arrows arc
        # higher, so nested ones stay apart.
        x1, y1 = source.x + source.width / 2, source.y
        x2, y2 = target.x + target.width / 2, target.y
        between = column_tops[layer[source.name] : layer[target.name] + 1]
        top = min(between) - ARC_STEP * (span - 1) - 16
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{top:.1f} {x2:.1f},{top:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = (x1 + x2) / 2, _apex(y1, y2, top) - 4
        anchor = "middle"
        css = "edge"
    elif span == 1:
        x1, y1 = source.x + source.width, source.y + NODE_HEIGHT / 2
        x2, y2 = target.x, target.y + NODE_HEIGHT / 2
        bend = (x2 - x1) / 2
        path = (
            f"M{x1:.1f},{y1:.1f} "
            f"C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 4
        anchor = "middle"
        css = "edge"
    elif span == 0:
        # Within one column: down the right-hand side, up the left-hand side.
        down = target.y > source.y
        x1 = source.x + source.width if down else source.x
        x2 = target.x + target.width if down else target.x
        y1, y2 = source.y + NODE_HEIGHT / 2, target.y + NODE_HEIGHT / 2
        reach = 36 if down else -36
        path = (
            f"M{x1:.1f},{y1:.1f} "
            f"C{x1 + reach:.1f},{y1:.1f} {x2 + reach:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        lx, ly = max(x1, x2) + 30 if down else min(x1, x2) - 30, (y1 + y2) / 2
        anchor = "start" if down else "end"
        css = "edge"
    else:
        # Backward: leave from the bottom and arrive at the bottom, dipping below both boxes,
        # drawn dashed so the main flow stays left to right.
        x1, y1 = source.x + source.width / 2, source.y + source.height
        x2, y2 = target.x + target.width / 2, target.y + target.height
        dip = max(y1, y2) + 28 + abs(x1 - x2) * 0.08
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{dip:.1f} {x2:.1f},{dip:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = (x1 + x2) / 2, _apex(y1, y2, dip) + 13
        anchor = "middle"
        css = "edge back"
    text = escape(label)
    return (
        f'<path d="{path}" class="{css}" marker-end="url(#arrow)"/>'
        f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" class="halo">{text}</text>'
        f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" class="label">{text}</text>'
    )


class LifecycleDiagram(Directive):
    """``lifecycle-diagram NAME``: the named lifecycle of ``o2c.domain.lifecycles.LIFECYCLES``."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in LIFECYCLES:
            raise self.error(f"no lifecycle named {name!r}; known: {', '.join(LIFECYCLES)}")
        return [nodes.raw("", render_svg(name), format="html")]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("lifecycle-diagram", LifecycleDiagram)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
