  // ---------- source x framing table ----------
  function levelGroups(level) { // the framings, or the groups of a level, in the order of their first framing
    return [...new Set(F.map((f) => groupAt(f.id, level)))];
  }
  // ColorBrewer's Blues, light to dark: the largest share is the darkest cell. (plotly.js's own "Blues" runs the
  // other way, from dark blue at 0 to light grey at the top, so the largest share looked like an empty cell.)
  const SHARE_SCALE = [[0, "#f7fbff"], [0.125, "#deebf7"], [0.25, "#c6dbef"], [0.375, "#9ecae1"], [0.5, "#6baed6"],
    [0.625, "#4292c6"], [0.75, "#2171b5"], [0.875, "#08519c"], [1, "#08306b"]];
  function drawHeatmap() {
    if (!F.length) return Promise.resolve();
    const G = levelGroups(state.level).map((id) => framingById.get(id));
    const perSource = data.sources.map(() => 0);
    const counts = data.sources.map(() => G.map(() => 0));
    const column = new Map(G.map((f, k) => [f.id, k]));
    for (let i = 0; i < n; i++) {
      if (U.dup_of[i] >= 0) continue;
      perSource[U.source[i]] += 1;
      if (U.framing[i] >= 0) counts[U.source[i]][column.get(groupAt(U.framing[i], state.level))] += 1;
    }
    const rows = data.sources.map((_, s) => s).filter((s) => perSource[s] > 0);
    const z = rows.map((s) => counts[s].map((c) => c / perSource[s]));
    const text = rows.map((s) => counts[s].map((c, k) =>
      `${escapeHtml(data.sources[s])}<br>${escapeHtml(framingName(G[k].id))}<br>${c} of ${perSource[s]} units (${(100 * c / perSource[s]).toFixed(1)}%)`));
    const heat = document.getElementById("heatmap");
    heat.style.height = `${Math.max(220, 40 * rows.length + 140)}px`;
    const first = !heat.data;
    return Plotly.react(heat, [{
      type: "heatmap", z, x: G.map((f) => escapeHtml(framingName(f.id))), y: rows.map((s) => escapeHtml(data.sources[s])),
      text, hoverinfo: "text", colorscale: SHARE_SCALE, zmin: 0, customdata: rows.map((s) => G.map((f) => [s, f.id])),
    }], { margin: { l: 180, r: 20, t: 10, b: 140 }, xaxis: { tickangle: 30, automargin: true }, yaxis: { automargin: true } },
    { responsive: true, displaylogo: false }).then(() => {
      if (first) heat.on("plotly_click", (ev) => {
        const [s, f] = ev.points[0].customdata;
        listCell(s, f);
      });
    });
  }
  function listCell(source, framing) {
    const list = document.getElementById("cell-passages");
    list.replaceChildren();
    const hits = [];
    for (let i = 0; i < n; i++) {
      if (U.dup_of[i] < 0 && U.source[i] === source && groupAt(U.framing[i], state.level) === framing) hits.push(i);
    }
    list.append(el("p", { class: "meta" }, `${hits.length} passages from ${data.sources[source]} in ${framingName(framing)}:`));
    const more = (from) => withTexts(hits.slice(from, from + CELL_PAGE), [], () => {
      for (const i of hits.slice(from, from + CELL_PAGE)) {
        list.append(el("li", {}, el("button", { type: "button", class: "link-button cell-passage", "data-unit": unitId(i),
          onclick: () => showPassage(i) }, unitText(i))));
      }
      if (from + CELL_PAGE < hits.length) {
        const button = el("button", { type: "button", class: "link-button", id: "cell-more", onclick: () => {
          button.remove(); more(from + CELL_PAGE); } }, `show ${Math.min(CELL_PAGE, hits.length - from - CELL_PAGE)} more`);
        list.append(button);
      }
    });
    more(0);
    return hits.length;
  }
