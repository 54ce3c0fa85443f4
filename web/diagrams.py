"""A lifecycle drawn from its definition, laid out by Graphviz (`dot`), in Russian."""

from __future__ import annotations

import re
import shutil
from html import escape

import graphviz
from flask_babel import gettext

from engine.lifecycle.definition import Phase, WorkflowDefinition

#: Fill and edge of a state by what its phase means: done is green, cancelled is grey.
PHASE_COLOURS = {
    Phase.OPEN: ("#ffffff", "#1f5fa8"),
    Phase.UNDER_REVIEW: ("#e8f1fb", "#1f5fa8"),
    Phase.DONE: ("#e3f4e4", "#2e7d32"),
    Phase.CANCELLED: ("#eeeeee", "#5c6672"),
}
FONT = "PT Sans,Arial,sans-serif"


def diagram_svg(definition: WorkflowDefinition, title: str) -> str:
    """The states as boxes and the rules as arrows labelled with their Russian action; an
    empty string where Graphviz is not installed."""
    if shutil.which("dot") is None:
        return ""
    graph = graphviz.Digraph(
        graph_attr={"rankdir": "LR", "bgcolor": "transparent", "nodesep": "0.5", "pad": "0.2"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "10", "color": "#5c6672"},
    )
    for state in definition.states:
        fill, edge = PHASE_COLOURS.get(definition.phase_of(state.name) or Phase.OPEN)
        graph.node(
            state.name,
            gettext(state.label),
            fillcolor=fill,
            color=edge,
            penwidth="2" if state.final or state.name == definition.initial else "1",
            peripheries="2" if state.final else "1",
        )
    for rule in definition.rules:
        for source in rule.sources:
            graph.edge(source, rule.dest, label=f" {gettext(rule.label)} ")
    svg = graph.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->|<title>[^<]*</title>", "", svg, flags=re.S)  # the codes
    return svg.replace(
        "<svg",
        f'<svg class="diagram" role="img" aria-label="{escape(title)}"',
        1,
    )
