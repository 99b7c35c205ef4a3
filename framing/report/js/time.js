  // ---------- over time ----------
  const TI = data.time;
  // Small multiples: one small panel per framing (one line and its band), a page of TIME_PANELS at a time, the
  // largest framings first, shared axes. Ten or more lines with overlapping bands in one panel could not be read.
  const TIME_PANELS = 12, TIME_COLUMNS = 4;
  function drawTime() {
    const panel = document.getElementById("time-panel");
    if (!TI || !F.length) return Promise.resolve();
    panel.classList.remove("hidden");
    const select = document.getElementById("time-group");
    TI.groups.forEach((g, k) => select.append(el("option", { value: String(k) }, g)));
    const undated = (data.run.dates || {}).units_undated || 0;
    document.getElementById("time-meta").textContent = `Share of the distinct units of each ${TI.bin} in each ` +
      `framing (members counted: ${data.run.time_members || "core and attached"}), with 95% bootstrap intervals ` +
      `over documents: one panel per framing, largest first, on shared axes. Click a point to list its passages.` +
      (undated ? ` ${undated} units without a usable date are left out.` : "");
    const R = TI.rows;
    const totals = new Map();
    R.framing.forEach((f, k) => { if (R.group[k] === 0) totals.set(f, (totals.get(f) || 0) + R.units[k]); });
    const ranked = [...new Set(R.framing)].filter((id) => framingById.get(id))
      .sort((a, b) => (totals.get(b) || 0) - (totals.get(a) || 0) || a - b);
    const pages = Math.ceil(ranked.length / TIME_PANELS);
    const pageSelect = document.getElementById("time-page");
    for (let p = 0; p < pages; p++) {
      pageSelect.append(el("option", { value: String(p) },
        `framings ${p * TIME_PANELS + 1}–${Math.min(ranked.length, (p + 1) * TIME_PANELS)} of ${ranked.length}`));
    }
    pageSelect.parentElement.classList.toggle("hidden", pages < 2);
    const top = Math.max(0.05, ...R.high.map((h, k) => (h === null ? R.share[k] : h)));
    function figure(group, page) {
      const ids = ranked.slice(page * TIME_PANELS, (page + 1) * TIME_PANELS);
      const rows = Math.ceil(ids.length / TIME_COLUMNS), traces = [], annotations = [];
      const layout = { height: 170 * rows + 60, margin: { t: 30, b: 40, l: 50, r: 10 }, showlegend: false,
        hovermode: "closest", grid: { rows, columns: TIME_COLUMNS, pattern: "independent", ygap: 0.45, xgap: 0.12 } };
      ids.forEach((id, k) => {
        const axis = k === 0 ? "" : String(k + 1), colour = colourOf(id);
        const share = TI.bins.map(() => null), low = TI.bins.map(() => null), high = TI.bins.map(() => null);
        R.framing.forEach((g, j) => {
          if (g !== id || R.group[j] !== group) return;
          share[R.bin[j]] = R.share[j]; low[R.bin[j]] = R.low[j]; high[R.bin[j]] = R.high[j];
        });
        const banded = TI.bins.map((_, b) => b).filter((b) => low[b] !== null && high[b] !== null);
        traces.push({ type: "scatter", mode: "none", fill: "toself", fillcolor: rgba(colour, 0.18), hoverinfo: "skip",
          x: banded.map((b) => TI.bins[b]).concat(banded.map((b) => TI.bins[b]).reverse()),
          y: banded.map((b) => high[b]).concat(banded.map((b) => low[b]).reverse()), xaxis: `x${axis}`, yaxis: `y${axis}` });
        traces.push({ type: "scatter", mode: "lines+markers", name: escapeHtml(framingName(id)), x: TI.bins, y: share,
          line: { color: colour }, marker: { size: 6 }, xaxis: `x${axis}`, yaxis: `y${axis}`, connectgaps: false,
          customdata: TI.bins.map((_, b) => [b, id]), meta: id,
          hovertemplate: `%{x}: %{y:.0%}<extra>${escapeHtml(framingName(id))}</extra>` });
        layout[`xaxis${axis}`] = { tickfont: { size: 9 }, nticks: 4 };
        layout[`yaxis${axis}`] = { tickformat: ".0%", range: [0, top * 1.05], tickfont: { size: 9 } };
        annotations.push({ text: escapeHtml(framingName(id)).slice(0, 48), showarrow: false, font: { size: 11 },
          xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0, y: 1.18, xanchor: "left" });
      });
      layout.annotations = annotations;
      return { traces, layout };
    }
    const chart = document.getElementById("time-chart");
    const current = () => figure(Number(select.value), Number(pageSelect.value || 0));
    const drawn = whenVisible(panel, () => {
      const { traces, layout } = current();
      return Plotly.newPlot(chart, traces, layout, { displaylogo: false, responsive: true }).then(() => {
        chart.on("plotly_click", (ev) => {
          const point = ev.points.find((p) => p.customdata);
          if (point) listBin(point.customdata[0], point.customdata[1], Number(select.value));
        });
      });
    });
    const redraw = () => { const { traces, layout } = current(); Plotly.react(chart, traces, layout); };
    select.addEventListener("change", redraw);
    pageSelect.addEventListener("change", redraw);
    window.framingTimeChart = drawn;
    return Promise.resolve();
  }
  function listBin(bin, framing, group) {
    const list = document.getElementById("time-passages");
    list.replaceChildren();
    Object.assign(list.dataset, { bin: TI.bins[bin], framing: String(framing), group: TI.groups[group] });
    const hits = [];
    for (let i = 0; i < n; i++) {
      // the chart's lines are at the level the run compared (hierarchy.level), not the one the map shows
      if (U.dup_of[i] < 0 && TI.unit_bin[i] === bin && groupAt(U.framing[i], H ? H.level : 0) === framing &&
          (group === 0 || TI.unit_group[i] === group)) hits.push(i);
    }
    list.append(el("p", { class: "meta" }, `${hits.length} passages of ${framingName(framing)} in the ${TI.bin} of ` +
      `${TI.bins[bin]}${group === 0 ? "" : ` from ${TI.groups[group]}`}:`));
    return withTexts(hits.slice(0, CELL_PAGE), [], () => {
      for (const i of hits.slice(0, CELL_PAGE)) {
        list.append(el("li", {}, el("button", { type: "button", class: "link-button time-passage", "data-unit": unitId(i),
          onclick: () => showPassage(i) }, unitText(i)), el("span", { class: "shares" }, ` — ${data.sources[U.source[i]]}`)));
      }
      if (hits.length > CELL_PAGE) list.append(el("p", { class: "meta" }, `and ${hits.length - CELL_PAGE} more`));
      return hits.length;
    });
  }
  function timePointPixel(bin, framing) { // where a bin's point of a framing is drawn (used by the browser tests)
    const chart = document.getElementById("time-chart"), full = chart._fullLayout, rect = chart.getBoundingClientRect();
    const R = TI.rows;
    const k = R.framing.findIndex((f, j) => f === framing && R.bin[j] === bin && R.group[j] === 0);
    const trace = chart.data.find((t) => t.meta === framing);
    const xa = full[trace.xaxis === "x" ? "xaxis" : `xaxis${trace.xaxis.slice(1)}`];
    const ya = full[trace.yaxis === "y" ? "yaxis" : `yaxis${trace.yaxis.slice(1)}`];
    return { x: rect.left + xa._offset + xa.l2p(xa.d2l(TI.bins[bin])), y: rect.top + ya._offset + ya.l2p(R.share[k]) };
  }
