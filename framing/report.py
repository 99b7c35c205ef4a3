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


def _also_in(units) -> dict[str, str]:
    """For each group representative with copies elsewhere: "also in: Source (doc), ..."."""
    if "duplicate_of" not in units.columns:
        return {}
    copies = units[units["duplicate_of"] != ""]
    also: dict[str, list[str]] = {}
    for rep, source, doc_id, section in zip(copies["duplicate_of"], copies["source"], copies["doc_id"],
                                            copies["section"] if "section" in copies else [""] * len(copies)):
        where = f"{source} ({doc_id}{', ' + section if section and section != 'body' else ''})"
        if where not in also.setdefault(rep, []):
            also[rep].append(where)
    return {rep: "also in: " + "; ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
            for rep, places in also.items()}


def map_figure(result: "Result"):
    """The 2-d framing map: one WebGL trace per framing and section, unassigned units grey and faint.

    A duplicate group (a reposted or quoted sentence) is drawn once; its hover says where else it stands.
    Buttons show all sections, only article bodies, or only reader comments.
    """
    import plotly.graph_objects as go

    units = result.units
    if "duplicate_of" in units.columns:
        units = units[units["duplicate_of"] == ""]
    sections = list(dict.fromkeys(units["section"])) if "section" in units.columns else ["body"]
    also = _also_in(result.units)
    labels = {f.id: f.label for f in result.framings}
    fig = go.Figure()
    trace_sections: list[str] = []
    for framing_id in [f.id for f in result.framings] + [UNASSIGNED]:
        name = "unassigned" if framing_id == UNASSIGNED else f"{framing_id}: {labels[framing_id]}"
        shown_in_legend = False
        for section in sections:
            rows = units[(units["framing"] == framing_id)
                         & ((units["section"] == section) if "section" in units.columns else True)]
            if rows.empty:
                continue
            hover = [
                f"<b>{html.escape(str(source))}</b> · {html.escape(section)} · {html.escape(name)}<br>{_hover(text)}"
                + (f"<br><i>{html.escape(also[unit_id])}</i>" if unit_id in also else "")
                for source, text, unit_id in zip(rows["source"], rows["text"], rows["unit_id"])
            ]
            fig.add_trace(go.Scattergl(
                x=rows["x"], y=rows["y"], mode="markers", name=html.escape(name), legendgroup=str(framing_id),
                showlegend=not shown_in_legend, customdata=rows["unit_id"], hovertext=hover, hoverinfo="text",
                marker=dict(size=6 if framing_id != UNASSIGNED else 4,
                            symbol="circle" if section != "comments" else "diamond",
                            color="#b0b0b0" if framing_id == UNASSIGNED else _PALETTE[framing_id % len(_PALETTE)],
                            opacity=0.35 if framing_id == UNASSIGNED else 0.85),
            ))
            shown_in_legend = True
            trace_sections.append(section)
    buttons = [dict(label="all sections", method="restyle", args=[{"visible": [True] * len(trace_sections)}])]
    for section in sections:
        buttons.append(dict(label=f"only {section}", method="restyle",
                            args=[{"visible": [s == section for s in trace_sections]}]))
    fig.update_layout(
        template="plotly_white", height=700, legend=dict(itemsizing="constant", font=dict(size=11)),
        xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
        margin=dict(l=10, r=10, t=60, b=10), title="Framings map (UMAP of sentence embeddings; ◆ = reader comment)",
        updatemenus=[dict(type="buttons", direction="right", x=0, y=1.08, xanchor="left", buttons=buttons)]
        if len(sections) > 1 else [],
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
        voices = ", ".join(f"{html.escape(s)} {share:.0%}" for s, share in f.sections.items())
        cards.append(
            f"<section class='card'><h3>{f.id}: {html.escape(f.label)} <small>{f.size} units</small></h3>"
            f"<p><b>Terms:</b> {html.escape(', '.join(f.terms))}</p><p><b>Sources:</b> {shares}</p>"
            + (f"<p><b>Sections:</b> {voices}</p>" if voices else "") +
            f"<ol>{exemplars}</ol></section>"
        )
    return "\n".join(cards) or "<p>No framing was found: every unit is unassigned.</p>"


def _reposts_html(result: "Result") -> str:
    reposts = result.manifest.get("reposts", [])
    if not reposts:
        return ""
    items = "".join(
        f"<li>{html.escape(r['document'])} repeats {r['share']:.0%} of {html.escape(r['original'])} "
        f"({r['shared_units']} of {r['units']} units): the copies are counted once</li>" for r in reposts)
    return f"<h2>Reposts</h2><ul>{items}</ul>"


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
{_reposts_html(result)}
{figure_html}
<h2>Framings</h2>
{_framings_html(result)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
