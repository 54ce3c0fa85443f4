"""A lifecycle drawn as SVG straight from its definition, for the admins' page."""

from __future__ import annotations

from collections import deque
from html import escape

from engine.lifecycle.definition import WorkflowDefinition

BOX_W, BOX_H, GAP_X, ROW_H = 150, 44, 70, 120


def _layers(definition: WorkflowDefinition) -> dict[str, int]:
    """Each state's distance from the initial state (breadth first)."""
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for trigger in definition.triggers_from(state):
            rule = definition.rule(trigger, state)
            if rule and rule.dest not in depth:
                depth[rule.dest] = depth[state] + 1
                queue.append(rule.dest)
    for state in definition.states:
        depth.setdefault(state.name, max(depth.values()) + 1)
    return depth


def diagram_svg(definition: WorkflowDefinition) -> str:
    """States as boxes in columns by distance, transitions as labelled arrows."""
    depth = _layers(definition)
    columns: dict[int, list[str]] = {}
    for state in definition.states:
        columns.setdefault(depth[state.name], []).append(state.name)
    place = {}
    for column, names in columns.items():
        for row, name in enumerate(names):
            place[name] = (20 + column * (BOX_W + GAP_X), 30 + row * ROW_H)
    width = 40 + len(columns) * (BOX_W + GAP_X)
    height = 60 + max(len(n) for n in columns.values()) * ROW_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>",
    ]
    for index, rule in enumerate(definition.rules):
        for source in rule.sources:
            x1, y1 = place[source]
            x2, y2 = place[rule.dest]
            start = (x1 + BOX_W, y1 + BOX_H / 2) if x2 > x1 else (x1, y1 + BOX_H / 2)
            end = (x2, y2 + BOX_H / 2) if x2 > x1 else (x2 + BOX_W, y2 + BOX_H / 2)
            bend = 40 + 12 * (index % 3)
            middle = (
                (start[0] + end[0]) / 2,
                min(start[1], end[1]) - bend if x2 <= x1 else (start[1] + end[1]) / 2 - 8,
            )
            roles = ", ".join(sorted(rule.roles))
            parts.append(
                f'<path d="M{start[0]:.0f},{start[1]:.0f} Q{middle[0]:.0f},'
                f'{middle[1]:.0f} {end[0]:.0f},{end[1]:.0f}" class="edge" '
                f'marker-end="url(#arrow)"><title>{escape(roles)}</title></path>'
            )
            parts.append(
                f'<text x="{middle[0]:.0f}" y="{middle[1]:.0f}" class="edge-label">'
                f"{escape(rule.trigger)}</text>"
            )
    for state in definition.states:
        x, y = place[state.name]
        css = "state final" if state.final else "state"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'class="{css}"/><text x="{x + BOX_W / 2}" y="{y + 18}" class="name">'
            f'{escape(state.label)}</text><text x="{x + BOX_W / 2}" y="{y + 34}" '
            f'class="code">{escape(state.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
