  // ---------- contrast ----------
  function drawContrast() {
    const C = data.contrast, panel = document.getElementById("contrast-panel");
    if (!C) { panel.classList.add("hidden"); return Promise.resolve(); }
    const t = C.test;
    document.getElementById("contrast-test").textContent =
      `Groups by ${C.grouping}: ` + Object.entries(C.groups).map(([g, m]) => `${g} (${m.join(", ")})`).join("; ") +
      `. Does framing use depend on the group? ${t.statistic} = ${t.value}, permutation p = ${t.p_value} ` +
      `(${t.permutations} shuffles of ${t.shuffled}). Framing members counted: ${C.members || "core and attached"}` +
      ` (contrast.members).`;
    const W = data.events && data.events.within;
    if (W) { // the same question asked within events, where agenda cannot answer it (see the events panel)
      const parts = W.agenda_framing.map((p) => `${p.group_a} vs ${p.group_b}: agenda ${interval(p.agenda)}, framing ` +
        `${interval(p.framing)}`);
      document.getElementById("contrast-test").after(el("p", { class: "meta", id: "contrast-within" },
        `Within events (${W.test.events} told by two or more groups): permutation p = ` +
        `${W.test.p_value === null ? "n/a" : W.test.p_value} (${W.test.shuffled}). Difference split into agenda ` +
        `(which events each group covered) and framing (how it told shared events): ${parts.join("; ")}.`));
    }
    const groups = Object.keys(C.groups);
    const T = C.table, label = (f) => escapeHtml(framingName(f));
    const bars = groups.map((g, k) => {
      const rows = T.group.map((x, i) => i).filter((i) => T.group[i] === g);
      return { type: "bar", name: escapeHtml(g), x: rows.map((i) => label(T.framing[i])), y: rows.map((i) => T.share[i]),
        // no interval (a group of one document): no error bar rather than a fake one
        error_y: { type: "data", array: rows.map((i) => (T.high[i] === null ? 0 : T.high[i] - T.share[i])),
          arrayminus: rows.map((i) => (T.low[i] === null ? 0 : T.share[i] - T.low[i])) },
        marker: { color: colourOf(k + 7) } };
    });
    // The two charts are drawn when the panel comes near the screen: below the fold they would only delay the
    // page (0.7 s of 4.5 s at 100k units, bench/report.py).
    const chartsDrawn = whenVisible(panel, () => {
      const shares = Plotly.newPlot("contrast-shares", bars, { barmode: "group", height: 420, margin: { t: 30, b: 150 },
      title: { text: "Share of each group's units per framing (95% bootstrap intervals over documents)", font: { size: 13 } },
      yaxis: { tickformat: ".0%" }, xaxis: { tickangle: 30, automargin: true } }, { displaylogo: false, responsive: true });
      const M = C.divergence;
      const divergence = Plotly.newPlot("contrast-divergence", [{ type: "heatmap", z: M.matrix,
      x: M.groups.map(escapeHtml), y: M.groups.map(escapeHtml), colorscale: "Reds", zmin: 0, zmax: 1,
      text: M.matrix.map((row) => row.map((v) => v === null ? "" : v.toFixed(3))), texttemplate: "%{text}" }],
    { height: Math.max(260, 50 * M.groups.length + 120), margin: { l: 160, t: 30 },
      title: { text: "Jensen–Shannon divergence of framing use (0 = same, 1 = disjoint)", font: { size: 13 } } },
    { displaylogo: false, responsive: true });
      return Promise.all([shares, divergence]);
    });
    // pairs and framings that have words or narratives
    const pairSelect = document.getElementById("contrast-pair"), framingSelect = document.getElementById("contrast-framing");
    const pairs = [...new Set(C.narratives.map((n) => `${n.a}\u0000${n.b}`))];
    for (const key of pairs) {
      const [a, b] = key.split("\u0000");
      pairSelect.append(el("option", { value: key }, `${a} vs ${b}`));
    }
    function fillFramings() {
      framingSelect.replaceChildren();
      const [a, b] = pairSelect.value.split("\u0000");
      for (const n of C.narratives.filter((n) => n.a === a && n.b === b)) {
        framingSelect.append(el("option", { value: String(n.framing) }, framingName(n.framing)));
      }
      showNarratives();
    }
    function showNarratives() {
      const [a, b] = pairSelect.value.split("\u0000"), f = Number(framingSelect.value);
      const n = C.narratives.find((x) => x.a === a && x.b === b && x.framing === f);
      return withTexts(n ? n.passages_a.concat(n.passages_b) : [], [], () => renderNarratives(a, b, f, n));
    }
    function renderNarratives(a, b, f, n) {
      for (const [side, name, key] of [["a", a, "passages_a"], ["b", b, "passages_b"]]) {
        const box = document.getElementById(`narrative-${side}`);
        box.replaceChildren(el("h4", {}, `${name} tells it`));
        if (!n) continue;
        box.append(el("ol", {}, ...n[key].map((i) => el("li", {}, el("button", { type: "button",
          class: "link-button narrative-passage", "data-unit": unitId(i), onclick: () => showPassage(i) }, unitText(i)),
          el("span", { class: "shares" }, ` — ${data.sources[U.source[i]]}`)))));
        const words = C.words.filter((w) => w.a === a && w.b === b && w.framing === f && w.side === side);
        box.append(el("p", { class: "meta" }, `Words that set ${name} apart (log-odds z-score towards ${name}): `),
          el("div", {}, ...words.map((w) => el("button", { type: "button", class: "word", "data-word": w.word,
            onclick: () => listWord(w, name) }, `${w.word} +${Math.abs(w.z).toFixed(1)}`))));
      }
      document.getElementById("word-passages").replaceChildren();
    }
    function listWord(w, name) {
      return withTexts(w.units, [], () => renderWord(w, name));
    }
    function renderWord(w, name) {
      const list = document.getElementById("word-passages");
      list.replaceChildren(el("p", { class: "meta" }, `“${w.word}” in ${framingName(w.framing)}, ${name}: ` +
        `${w.side === "a" ? w.count_a : w.count_b} times (${w.side === "a" ? w.count_b : w.count_a} in the other group)`));
      for (const i of w.units) {
        list.append(el("li", {}, el("button", { type: "button", class: "link-button word-passage", "data-unit": unitId(i),
          onclick: () => showPassage(i) }, unitText(i))));
      }
    }
    pairSelect.addEventListener("change", fillFramings);
    framingSelect.addEventListener("change", showNarratives);
    if (pairs.length) fillFramings();
    window.framingContrastCharts = chartsDrawn;
    return Promise.resolve();
  }
