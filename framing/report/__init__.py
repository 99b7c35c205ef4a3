"""Stage 7: the interactive report — one self-contained HTML page that works offline.

Every point, framing, exemplar and table cell leads to its passage in context and to the whole document.
The page carries plotly.js (inlined once), the run's data as one JSON block, and its script (``js/``, a module
per panel, inlined by ``app_script``).
Corpus text never becomes markup: the JSON is escaped so no ``</script>`` can close its block, and the script
renders text only through ``textContent`` (plotly hover labels get HTML-escaped strings).
"""
from __future__ import annotations

import base64
import html
import json
import re
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
import pandas as pd

from ..config import ReportConfig
from ..contrast.analysis import Contrast
from ..framings.describe import Framing
from ..framings.partition import UNASSIGNED
from ..framings.hierarchy import Hierarchy
from ..contrast.over_time import ALL_GROUPS, OverTime


class Result(Protocol):
    """What the report reads of a finished run (``framing.store.result.Result`` is one). The report never imports the
    result module, which draws its map with the report (``Result.figure``): the contract lives here, one way."""

    units: pd.DataFrame
    framings: list[Framing]
    documents: pd.DataFrame
    manifest: dict[str, Any]
    contrast_data: Contrast | None
    frames_data: dict[str, Any] | None
    over_time_data: OverTime | None
    hierarchy_data: Hierarchy | None

    def unit_columns(self, columns: Sequence[str]) -> pd.DataFrame:
        """Those of ``columns`` the unit table has (read without the others)."""

__all__ = ["Report", "map_figure", "write_report", "app_script", "report_data", "is_framing_report", "needs_server"]

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
           "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1",
           "#636363", "#9c9ede", "#cedb9c", "#e7cb94", "#e7969c", "#de9ed6"]


# The unit table's columns the page reads.
REPORT_COLUMNS = ("unit_id", "doc_id", "index", "source", "section", "start", "end", "framing", "duplicate_of", "x",
                  "y", "frame", "frame_origin", "frame_probability", "time_bin", "group", "membership",
                  "centre_cosine", "event")
# a unit's membership as the page reads it; runs saved before members were told apart have none
_MEMBERSHIP_CODES = {"core": 0, "attached": 1, "none": 2}


def _hover(text: str, width: int = 80, max_lines: int = 8) -> str:
    lines = textwrap.wrap(text, width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["…"]
    return "<br>".join(html.escape(line) for line in lines)


def map_figure(result: "Result"):
    """The 2-d framing map as a plotly Figure: one WebGL trace per framing, unassigned grey and faint.

    For notebooks (``Result.figure()``); the HTML report draws the same map with its own controls.
    """
    import plotly.graph_objects as go

    units = result.units
    if "duplicate_of" in units.columns:
        units = units[units["duplicate_of"] == ""]
    labels = {f.id: f.label for f in result.framings}
    fig = go.Figure()
    for framing_id in [f.id for f in result.framings] + [UNASSIGNED]:
        rows = units[units["framing"] == framing_id]
        if rows.empty:
            continue
        name = "unassigned" if framing_id == UNASSIGNED else f"{framing_id}: {labels[framing_id]}"
        hover = [f"<b>{html.escape(str(s))}</b> · {html.escape(name)}<br>{_hover(t)}"
                 for s, t in zip(rows["source"], rows["text"])]
        fig.add_trace(go.Scattergl(
            x=rows["x"], y=rows["y"], mode="markers", name=html.escape(name), customdata=rows["unit_id"],
            hovertext=hover, hoverinfo="text",
            marker=dict(size=6 if framing_id != UNASSIGNED else 4,
                        color="#b0b0b0" if framing_id == UNASSIGNED else PALETTE[framing_id % len(PALETTE)],
                        opacity=0.35 if framing_id == UNASSIGNED else 0.85)))
    fig.update_layout(template="plotly_white", height=650, legend=dict(itemsizing="constant"),
                      xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False),
                      margin=dict(l=10, r=10, t=40, b=10), title="Framings map")
    return fig


def _utf16_offsets(text: str, offsets: np.ndarray) -> np.ndarray:
    """Python offsets count code points; JavaScript strings count UTF-16 units (an emoji is two)."""
    if text.isascii() or all(ord(ch) < 0x10000 for ch in text):
        return offsets
    extra = np.cumsum([0] + [1 if ord(ch) >= 0x10000 else 0 for ch in text])
    return offsets + extra[offsets]


def _packed(values: Any, dtype: str) -> dict[str, str]:
    """A numeric column as little-endian bytes in base64: the page reads it into a typed array without parsing
    each number. Integers take the narrowest type that holds them (a section code is one byte, not four)."""
    array = np.asarray(values)
    if dtype == "int":
        low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
        dtype = next(name for name, bits in (("int8", 8), ("int16", 16), ("int32", 32))
                     if -(1 << (bits - 1)) <= low and high < (1 << (bits - 1)))
    little_endian = {"int8": "<i1", "int16": "<i2", "int32": "<i4", "uint8": "<u1", "uint16": "<u2",
                     "float32": "<f4"}[dtype]
    array = np.ascontiguousarray(array, dtype=little_endian)
    return {"dtype": dtype, "b64": base64.b64encode(array.tobytes()).decode("ascii")}


def _quantised(values: Any, levels: int) -> dict[str, Any]:
    """Reals in ``levels`` steps between their minimum and maximum (NaN kept as the top step): map positions in
    1/65,535 of the map's extent (far below a pixel), probabilities in steps of 1/254."""
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    steps = levels - 2  # the top step marks a missing value
    scale = (high - low) / steps if high > low else 1.0
    codes = np.where(np.isfinite(array), np.rint((np.nan_to_num(array, nan=low) - low) / scale), steps + 1)
    column = _packed(codes, "uint8" if levels <= 256 else "uint16")
    return {**column, "offset": low, "scale": scale, "missing": steps + 1}


def _map_order(units: pd.DataFrame, exemplars: set[str], seed: int) -> np.ndarray:
    """The order in which the map takes points when it may not draw them all: exemplars first, then a seeded
    shuffle, so any prefix is a fair sample that still shows every framing's centre."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(units))
    first = units["unit_id"].isin(exemplars).to_numpy()[order]
    return np.concatenate([order[first], order[~first]])


def _time_data(result: "Result", units: pd.DataFrame) -> dict[str, Any] | None:
    """The framings' shares per time bin (per group and over all units) and each unit's bin and group, so that a
    click on a bin lists exactly the passages counted there."""
    over_time = getattr(result, "over_time_data", None)
    if over_time is None or "time_bin" not in units.columns or over_time.shares.empty:
        return None
    shares = over_time.shares
    if "by" in shares.columns:
        shares = shares[shares["by"] == "framings"]
    bins = sorted(set(shares["bin"]))
    groups = [ALL_GROUPS] + sorted(set(shares["group"]) - {ALL_GROUPS})
    bin_index = {b: k for k, b in enumerate(bins)}
    group_index = {g: k for k, g in enumerate(groups)}
    interval = lambda values: [None if pd.isna(v) else float(v) for v in values]  # noqa: E731
    return {
        "bin": over_time.bin, "bins": bins, "groups": groups,
        "rows": {"group": [group_index[g] for g in shares["group"]], "bin": [bin_index[b] for b in shares["bin"]],
                 "framing": [int(f) for f in shares["framing"]], "units": [int(u) for u in shares["units"]],
                 "share": [float(v) for v in shares["share"]], "low": interval(shares["low"]),
                 "high": interval(shares["high"])},
        "unit_bin": _packed(units["time_bin"].map(bin_index).fillna(-1), "int"),
        "unit_group": _packed(units["group"].map(group_index).fillna(-1), "int"),
    }


def _events_data(result: "Result", units: pd.DataFrame) -> dict[str, Any] | None:
    """The events (which documents tell the same story), each unit's event and contrast group, and what the
    contrast found within events: the events view lists an event's passages per group, by framing."""
    events = getattr(result, "events_data", None)
    if events is None or "event" not in units.columns:
        return None
    within = result.contrast_data.within_events if result.contrast_data is not None else None
    groups = sorted({g for g in units["group"].astype(str) if g}) if "group" in units.columns else []
    group_index = {g: k for k, g in enumerate(groups)}
    return {
        "method": events.method, "settings": events.settings,
        "events": [{"id": e["id"], "label": e["label"], "first": e["first"], "last": e["last"],
                    "sources": e["sources"], "documents": len(e["documents"]), "size": e["size"]}
                   for e in events.events],
        "unit_event": _packed(units["event"].to_numpy(dtype=np.int64), "int"),
        "groups": groups,
        "unit_group": _packed(units["group"].astype(str).map(group_index).fillna(-1) if groups
                              else np.full(len(units), -1), "int"),
        "within": None if within is None else {"test": within["test"], "agenda_framing": within["agenda_framing"],
                                               "divergence": within["divergence"]},
    }


def _hierarchy_data(result: "Result", unit_index: dict[str, int]) -> dict[str, Any] | None:
    """The tree above the framings: parents (with their framings and exemplars), each level's framing → group,
    and the level contrast and time were computed at (the page opens there)."""
    tree = getattr(result, "hierarchy_data", None)
    if tree is None or not tree.parents:
        return None
    level = int(result.manifest.get("hierarchy", {}).get("level", 0))
    return {
        "method": tree.method, "level": level,
        "parents": [{"id": p.id, "label": p.label, "children": p.children, "leaves": p.leaves, "size": p.size,
                     "height": p.height, "terms": p.terms, "sources": p.sources,
                     "exemplars": [unit_index[u] for u in p.exemplars if u in unit_index]} for p in tree.parents],
        "levels": [[[int(f), int(g)] for f, g in sorted(mapping.items())] for mapping in tree.levels],
    }


def report_data(result: "Result", max_points: int | None = None, embed_text: bool = True) -> dict[str, Any]:
    """Everything the page shows, in compact columns (indices instead of repeated strings, numbers packed).

    ``max_points``: the map draws at most this many distinct units (``report.max_points``); ``embed_text``
    False leaves the documents' text out of the page, for ``framing serve`` to send on demand.
    """
    settings = result.manifest.get("config", {}).get("report", {})
    if max_points is None:
        max_points = settings.get("max_points", ReportConfig.model_fields["max_points"].default)
    # what the page draws and links: positions and codes, not the texts, which it cuts from the documents
    units = result.unit_columns(REPORT_COLUMNS).reset_index(drop=True)
    docs = result.documents.reset_index(drop=True)
    doc_index = {doc_id: i for i, doc_id in enumerate(docs["doc_id"])}
    sources = sorted(set(units["source"]) | set(docs["source"]))
    source_index = {s: i for i, s in enumerate(sources)}
    sections = list(dict.fromkeys(units["section"])) if "section" in units.columns else ["body"]
    section_index = {s: i for i, s in enumerate(sections)}
    unit_index = {u: i for i, u in enumerate(units["unit_id"])}
    doc_of = np.asarray(units["doc_id"].map(doc_index).to_numpy(), dtype=np.int64)
    starts = units["start"].to_numpy().copy()
    ends = units["end"].to_numpy().copy()
    # each document's rows by one sort, not a pass over every unit per document (40,000 passes at 1M units)
    by_doc = np.argsort(doc_of, kind="stable")
    bounds = np.searchsorted(doc_of[by_doc], np.arange(len(docs) + 1))
    for d, text in enumerate(docs["text"]):
        rows = by_doc[bounds[d]:bounds[d + 1]]
        if rows.size and not text.isascii():
            starts[rows] = _utf16_offsets(text, starts[rows])
            ends[rows] = _utf16_offsets(text, ends[rows])
    dup_of = units["duplicate_of"].map(lambda u: unit_index.get(u, -1)).to_numpy(dtype=np.int64) \
        if "duplicate_of" in units.columns else np.full(len(units), -1)
    ids_follow_documents = "index" in units.columns and bool(
        (units["doc_id"].astype(str) + "#" + units["index"].astype(str) == units["unit_id"]).all())
    contrast = None
    if result.contrast_data is not None:
        c = result.contrast_data
        to_index = lambda ids: [unit_index[u] for u in ids if u in unit_index]  # noqa: E731
        saved = c.to_dict()  # JSON-safe: missing intervals are null
        contrast = {
            "grouping": c.grouping, "groups": c.groups, "test": saved["test"], "members": c.members,
            "table": {key: [row[key] for row in saved["table"] if row["framing"] != UNASSIGNED]
                      for key in ("group", "framing", "share", "low", "high", "count")},
            "divergence": saved["divergence"],
            "words": [{"framing": int(w.framing), "a": w.group_a, "b": w.group_b, "side": w.side, "word": w.word,
                       "z": float(w.z), "count_a": int(w.count_a), "count_b": int(w.count_b),
                       "units": to_index(w.unit_ids)} for w in c.words.itertuples()],
            "narratives": [{"framing": n["framing"], "a": n["group_a"], "b": n["group_b"],
                            "passages_a": to_index(n["passages_a"]), "passages_b": to_index(n["passages_b"])}
                           for n in c.narratives],
            "subframings": [{k: v for k, v in sub.items() if k != "parts"} for sub in c.subframings],
        }
    frames = None
    if result.frames_data is not None and "frame" in units.columns:
        names = list(result.frames_data.get("frames", []))
        name_index = {name: k for k, name in enumerate(names)}
        origins = ["label", "prediction", "zero-shot"]
        validation = result.frames_data.get("validation") or {}
        frames = {
            "names": names, "method": result.frames_data.get("method"),
            "frame": _packed([name_index.get(f, -1) for f in units["frame"]], "int"),
            "origin": _packed([origins.index(o) if o in origins else 2 for o in units["frame_origin"]], "int"),
            "probability": _quantised(units["frame_probability"].to_numpy(dtype=float), 256),  # NaN: none
            "proposals": [unit_index[u] for u in result.frames_data.get("proposals", []) if u in unit_index],
            "validation": {k: validation[k] for k in ("folds", "accuracy", "macro_f1", "labelled", "tested",
                                                      "zero_shot", "per_frame", "learning_curve", "confusion",
                                                      "untested_frames") if k in validation},
            "labels_per_frame": result.frames_data.get("labels", {}).get("per_frame", {}),
            "left_out": {"unmatched": int(result.frames_data.get("labels", {}).get("unmatched_rows", 0)),
                         "unknown_frames": result.frames_data.get("labels", {}).get("unknown_frames", {}),
                         "skipped": result.frames_data.get("labels", {}).get("validation_skipped")},
        }
    return {
        "contrast": contrast,
        "frames": frames,
        "time": _time_data(result, units),
        "hierarchy": _hierarchy_data(result, unit_index),
        "events": _events_data(result, units),
        "run": {
            "name": result.manifest.get("config", {}).get("run", {}).get("name", "run"),
            "counts": result.manifest.get("counts", {}),
            "reposts": result.manifest.get("reposts", []),
            "warnings": result.manifest.get("warnings", []),
            "time_members": result.manifest.get("time", {}).get("members", "core and attached"),
            "dates": result.manifest.get("time", {}).get("dates", {}),
        },
        "palette": PALETTE,
        "sources": sources,
        "sections": sections,
        "framings": [{
            "id": f.id, "label": f.label, "size": f.size, "occurrences": f.occurrences or f.size,
            "terms": f.terms, "exemplars": [unit_index[u] for u in f.exemplars if u in unit_index],
            "sources": f.sources, "sections": f.sections,
            "caption": unit_index.get(f.caption, -1), "named_by": f.named_by, "core": f.core,
            "stability": f.stability,
        } for f in result.framings],
        "stability": result.manifest.get("stability"),
        "docs": {
            "id": list(docs["doc_id"]), "title": list(docs["title"]), "date": list(docs["date"]),
            "url": list(docs["url"]), "source": [source_index[s] for s in docs["source"]],
            "text": list(docs["text"]) if embed_text else None,
        },
        "served": not embed_text,
        "max_points": int(max_points),
        "units": {
            # ids are "<doc id>#<index>" (framing.units.segment.unit_id): sent whole only when a run's are not
            "id": None if ids_follow_documents else list(units["unit_id"]),
            "index": _packed(units["index"] if "index" in units.columns else np.zeros(len(units)), "int"),
            # units stand in document order: one count per document instead of a document per unit
            **({"doc_runs": _packed(np.bincount(doc_of, minlength=len(docs)), "int")}
               if bool(np.all(np.diff(doc_of) >= 0)) else {"doc": _packed(doc_of, "int")}),
            "start": _packed(starts, "int"), "end": _packed(ends, "int"),
            "framing": _packed(units["framing"], "int"),
            **({"membership": _packed(units["membership"].astype(str).map(_MEMBERSHIP_CODES).to_numpy(), "int"),
                "centre_cosine": _quantised(units["centre_cosine"].to_numpy(dtype=float), 256)}
               if "membership" in units.columns and "centre_cosine" in units.columns else {}),
            "source": _packed(units["source"].map(source_index), "int"),
            "section": _packed(units["section"].map(section_index) if "section" in units.columns
                               else np.zeros(len(units)), "int"),
            # copies only (most units are their own representative): unit → its group's representative
            "copies": _packed(np.flatnonzero(dup_of >= 0), "int"),
            "copy_of": _packed(dup_of[dup_of >= 0], "int"),
            "x": _quantised(units["x"], 65536), "y": _quantised(units["y"], 65536),
            # enough of the drawing order for the map's sample, with room for filters that hide part of it
            "map_order": _packed(_map_order(units, {u for f in result.framings for u in f.exemplars},
                                            int(result.manifest.get("seed", 0)))[:2 * max_points], "int"),
        },
    }


def _script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' survives literally, so text cannot close the tag."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_PAGE_SIGNATURE = b"<title>framing report: "


def needs_server(result: "Result") -> bool:
    """True when the run's documents hold more text than ``report.max_text_mb``: one file with all of it would
    be too slow to open, so the page is served with its passages on demand (``framing serve``)."""
    limit = result.manifest.get("config", {}).get("report", {}).get(
        "max_text_mb", ReportConfig.model_fields["max_text_mb"].default)
    total = int(result.documents["text"].str.len().sum()) if len(result.documents) else 0
    return total > limit * 1e6


def is_framing_report(path: str | Path) -> bool:
    """True when ``path`` is a page that ``write_report`` wrote (so rewriting it loses nothing of the user's)."""
    try:
        with open(path, "rb") as handle:
            return _PAGE_SIGNATURE in handle.read(4096)
    except OSError:
        return False


# The page's script, one module per panel (framing/report/js), inlined in this order into one closure: core.js holds
# the data, the shared selection state and helpers; passages.js the passage, document and passage-list views every
# panel opens; start.js draws the panels. A module's top-level code may use what the modules before it define.
APP_MODULES = ("core", "map", "passages", "search", "cards", "heatmap", "tree", "time", "contrast", "labelling",
               "header", "events", "start")


def app_script() -> str:
    """The report's script: the panel modules inlined into one strict-mode closure (no globals but
    ``window.framingReport`` and ``window.framingReady``, which the browser tests read)."""
    folder = resources.files(__package__) / "js"
    body = "\n".join((folder / f"{name}.js").read_text(encoding="utf-8") for name in APP_MODULES)
    return ("/* framing report: map, passages in context, documents, framing cards, source x framing table, search.\n"
            "   Corpus text is only ever rendered through textContent; plotly labels get escapeHtml()'d strings. */\n"
            '(function () {\n  "use strict";\n' + body + "})();\n")


class Report:
    """The interactive report of a run as one view object: ``save(path)`` writes the offline page, ``html()`` gives
    it as text and, in a notebook, the object shows the real page (``_repr_html_``, in a sandboxed frame).

    Self-contained unless the documents' text is larger than ``report.max_text_mb`` (or ``embed_text`` is
    False): the page then holds the map, framings and tables, and ``framing serve RUN_DIR`` sends passages to it.
    """

    def __init__(self, result: "Result", embed_text: bool | None = None, height: int = 900) -> None:
        self.result = result
        self.embed_text = not needs_server(result) if embed_text is None else embed_text
        self.height = height

    def html(self) -> str:
        """The whole page: data, plotly.js and the page's script inlined, nothing fetched."""
        from plotly.offline import get_plotlyjs

        package = resources.files(__package__)
        page = (package / "page.html").read_text(encoding="utf-8")
        name = html.escape(str(self.result.manifest.get("config", {}).get("run", {}).get("name", "run")))
        parts = {"TITLE": name, "DATA": _script_json(report_data(self.result, embed_text=self.embed_text)),
                 "PLOTLY": get_plotlyjs().replace("</script", "<\\/script"), "APP": app_script()}
        # One pass, so nothing inserted (corpus text included) is scanned for placeholders again.
        return re.sub(r"__(TITLE|DATA|PLOTLY|APP)__", lambda match: parts[match.group(1)], page)

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path``; returns it."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" style="width:100%;height:{self.height}px;'
                'border:0" sandbox="allow-scripts allow-downloads allow-popups"></iframe>')


def write_report(result: "Result", path: str | Path, embed_text: bool | None = None) -> Path:
    """Write the interactive report to ``path`` (``Report(result, embed_text).save(path)``)."""
    return Report(result, embed_text).save(path)
