  // ---------- map ----------
  function pointColour(i) {
    if (state.colourBy === "source") return colourOf(U.source[i]);
    if (state.colourBy === "section") return colourOf(U.section[i] + 3);
    return U.framing[i] === -1 ? "#a0a0a0" : colourOf(groupAt(U.framing[i], state.level));
  }
  const visible = (i) => U.dup_of[i] < 0 // a duplicate group is drawn once, at its representative
    && (state.section === "" || data.sections[U.section[i]] === state.section)
    && !(state.coreOnly && !isCore(i));
  function visiblePoints() { // at most data.max_points: exemplars first, then a seeded sample (map_order)
    const out = [];
    for (let k = 0; k < U.map_order.length && out.length < data.max_points; k++) {
      if (visible(U.map_order[k])) out.push(U.map_order[k]);
    }
    if (state.highlight !== null) { // what is highlighted is drawn even when the sample left it out
      const drawn = new Set(out);
      for (const i of state.highlight) if (!drawn.has(i) && visible(i) && out.length < 2 * data.max_points) out.push(i);
    }
    return out;
  }
  function traces() { // one trace per colour and emphasis: no per-point colour strings for plotly to parse
    const groups = new Map();
    for (const i of visiblePoints()) {
      const lit = state.highlight === null || state.highlight.has(i);
      const faint = U.framing[i] === -1 && state.colourBy === "framing";
      const hollow = membershipOf(i) === "attached" ? 1 : 0;
      const key = `${pointColour(i)}|${!lit ? 0 : faint ? 1 : 2}|${state.highlight !== null && lit ? 1 : 0}|${hollow}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    }
    return [...groups.entries()].map(([key, idx]) => {
      const [colour, emphasis, big, hollow] = key.split("|");
      const size = big === "1" ? 9 : emphasis === "1" ? 4 : 6;
      return { type: "scattergl", mode: "markers", x: Float32Array.from(idx, (i) => U.x[i]),
        y: Float32Array.from(idx, (i) => U.y[i]),
        customdata: idx, hoverinfo: "none", name: hollow === "1" ? "attached" : "core",
        marker: hollow === "1"
          ? { color: rgba(colour, [0.07, 0.35, 0.85][emphasis]), size, symbol: "circle-open",
            line: { width: 1.2, color: rgba(colour, [0.07, 0.35, 0.85][emphasis]) } }
          : { color: rgba(colour, [0.07, 0.35, 0.85][emphasis]), size, line: { width: 0 } } };
    });
  }
  const layout = {
    margin: { l: 10, r: 10, t: 10, b: 10 }, hovermode: "closest", dragmode: "pan", showlegend: false,
    xaxis: { showticklabels: false, zeroline: false, showgrid: false },
    yaxis: { showticklabels: false, zeroline: false, showgrid: false },
    hoverlabel: { align: "left" },
  };
  function draw() {
    renderLegend();
    return Plotly.react(mapDiv, traces(), layout, { responsive: true, scrollZoom: true, displaylogo: false });
  }
  function renderLegend() {
    const box = document.getElementById("legend");
    box.replaceChildren();
    const entries = state.colourBy === "source" ? data.sources.map((s, k) => [s, colourOf(k)])
      : state.colourBy === "section" ? data.sections.map((s, k) => [s, colourOf(k + 3)])
        : levelGroups(state.level).map((g) => [framingName(g), colourOf(g)]).concat([["unassigned", "#a0a0a0"]]);
    for (const [name, colour] of entries) {
      box.append(el("span", { class: "legend-item" }, el("span", { class: "swatch", style: `background:${colour}` }), name));
    }
    if (U.membership) box.append(el("span", { class: "legend-item", title: "an outlier given to a framing after " +
      "clustering (cluster.reassign_threshold): its membership is less certain than a core member's" },
    el("span", { class: "swatch hollow" }), "hollow: attached"));
  }

  // the map's controls
  document.getElementById("colour-by").addEventListener("change", (ev) => { state.colourBy = ev.target.value; draw(); });
  const sectionSelect = document.getElementById("section-filter");
  for (const s of data.sections) sectionSelect.append(el("option", { value: s }, `only ${s}`));
  sectionSelect.addEventListener("change", (ev) => { state.section = ev.target.value; draw(); });
  document.getElementById("core-only").addEventListener("change", (ev) => { state.coreOnly = ev.target.checked; draw(); });
  function pointPixel(i) { // where unit i is drawn, in page coordinates (used by the browser tests)
    const full = mapDiv._fullLayout, rect = mapDiv.getBoundingClientRect();
    return { x: rect.left + full._size.l + full.xaxis.l2p(U.x[representative(i)]),
      y: rect.top + full._size.t + full.yaxis.l2p(U.y[representative(i)]) };
  }
