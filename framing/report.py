"""Stage 6: the HTML report — a self-contained page with the framing map and the framings' descriptions.

Every piece of corpus text is escaped before it reaches HTML (plotly hover labels render a subset of HTML, and
scraped pages are untrusted). plotly.js is inlined, so the page works offline with nothing beside it.
"""
from __future__ import annotations

import html
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from .framings import UNASSIGNED

if TYPE_CHECKING:  # the report reads a finished Result; it never runs an earlier stage
    from .result import Result

__all__ = ["map_figure", "write_report"]

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
            "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1"]


def _hover(text: str, width: int = 80, max_lines: int = 8) -> str:
    lines = textwrap.wrap(text, width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["…"]
    return "<br>".join(html.escape(line) for line in lines)


def map_figure(result: "Result"):
    """The 2-d framing map: one WebGL trace per framing, unassigned units grey and faint."""
    import plotly.graph_objects as go

    units = result.units
    labels = {f.id: f.label for f in result.framings}
    fig = go.Figure()
    order = [f.id for f in result.framings] + [UNASSIGNED]
    for framing_id in order:
        rows = units[units["framing"] == framing_id]
        if rows.empty:
            continue
        name = "unassigned" if framing_id == UNASSIGNED else f"{framing_id}: {labels[framing_id]}"
        hover = [
            f"<b>{html.escape(str(source))}</b> · {html.escape(name)}<br>{_hover(text)}"
            for source, text in zip(rows["source"], rows["text"])
        ]
        fig.add_trace(go.Scattergl(
            x=rows["x"], y=rows["y"], mode="markers", name=html.escape(name),
            customdata=rows["unit_id"], hovertext=hover, hoverinfo="text",
            marker=dict(size=6 if framing_id != UNASSIGNED else 4,
                        color="#b0b0b0" if framing_id == UNASSIGNED else _PALETTE[framing_id % len(_PALETTE)],
                        opacity=0.35 if framing_id == UNASSIGNED else 0.85),
        ))
    fig.update_layout(
        template="plotly_white", height=700, legend=dict(itemsizing="constant", font=dict(size=11)),
        xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
        margin=dict(l=10, r=10, t=40, b=10), title="Framings map (UMAP of sentence embeddings)",
    )
    return fig


def _framings_html(result: "Result") -> str:
    text_of = dict(zip(result.units["unit_id"], result.units["text"]))
    source_of = dict(zip(result.units["unit_id"], result.units["source"]))
    cards = []
    for f in result.framings:
        shares = ", ".join(f"{html.escape(s)} {share:.0%}" for s, share in f.sources.items())
        exemplars = "".join(
            f"<li><span class='src'>{html.escape(str(source_of.get(u, '')))}</span> {html.escape(text_of.get(u, ''))}</li>"
            for u in f.exemplars
        )
        cards.append(
            f"<section class='card'><h3>{f.id}: {html.escape(f.label)} <small>{f.size} units</small></h3>"
            f"<p><b>Terms:</b> {html.escape(', '.join(f.terms))}</p><p><b>Sources:</b> {shares}</p>"
            f"<ol>{exemplars}</ol></section>"
        )
    return "\n".join(cards) or "<p>No framing was found: every unit is unassigned.</p>"


def write_report(result: "Result", path: str | Path) -> Path:
    """Write the self-contained report page to ``path``."""
    path = Path(path)
    counts = result.manifest.get("counts", {})
    name = html.escape(str(result.manifest.get("config", {}).get("run", {}).get("name", "run")))
    figure_html = map_figure(result).to_html(full_html=False, include_plotlyjs=True, config={"responsive": True})
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>framing report: {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; color: #222; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; margin: .75rem 0; }}
.card h3 small {{ color: #777; font-weight: normal; }} .src {{ color: #777; font-size: .85em; }}
li {{ margin: .3rem 0; }}
</style></head><body>
<h1>framing report: {name}</h1>
<p>{counts.get('documents', 0)} documents · {counts.get('units', 0)} units · {counts.get('framings', 0)} framings ·
{counts.get('unassigned', 0)} unassigned units</p>
{figure_html}
<h2>Framings</h2>
{_framings_html(result)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
