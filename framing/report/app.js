/* framing report: map, passages in context, documents, framing cards, source x framing table, search.
   Corpus text is only ever rendered through textContent; plotly labels get escapeHtml()'d strings. */
(function () {
  "use strict";
  // Performance marks (framing:plotly, :script, :data, :indexed, :map, :ready) say where a load's time goes;
  // bench/report.py prints them.
  performance.mark("framing:script");
  const data = JSON.parse(document.getElementById("framing-data").textContent);
  // Numeric columns come packed (little-endian bytes in base64): typed arrays without parsing each number.
  function unpack(column) {
    if (!column || Array.isArray(column) || column.b64 === undefined) return column;
    let bytes;
    if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(column.b64); // native decoding where the browser has it
    else {
      const bin = atob(column.b64);
      bytes = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    }
    const Type = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
      float32: Float32Array }[column.dtype];
    const raw = new Type(bytes.buffer);
    if (column.scale === undefined) return raw;
    const out = new Float32Array(raw.length); // quantised reals: offset + code * scale; the top code is missing
    for (let k = 0; k < raw.length; k++) out[k] = raw[k] === column.missing ? NaN : column.offset + raw[k] * column.scale;
    return out;
  }
  for (const key of Object.keys(data.units)) data.units[key] = unpack(data.units[key]);
  if (data.frames) for (const key of ["frame", "origin", "probability"]) data.frames[key] = unpack(data.frames[key]);
  if (data.time) for (const key of ["unit_bin", "unit_group"]) data.time[key] = unpack(data.time[key]);
  if (data.events) for (const key of ["unit_event", "unit_group"]) data.events[key] = unpack(data.events[key]);
  performance.mark("framing:data");
  const U = data.units, D = data.docs, F = data.framings, palette = data.palette;
  const n = U.index.length;
  if (U.doc_runs) { // one count per document, units in document order
    U.doc = new Int32Array(n);
    for (let d = 0, k = 0; d < U.doc_runs.length; d++) for (let c = 0; c < U.doc_runs[d]; c++) U.doc[k++] = d;
  }
  U.dup_of = new Int32Array(n).fill(-1);
  U.copies.forEach((i, k) => { U.dup_of[i] = U.copy_of[k]; });
  const unitId = U.id ? (i) => U.id[i] : (i) => `${D.id[U.doc[i]]}#${U.index[i]}`;
  const framingById = new Map(F.map((f) => [f.id, f]));
  // The hierarchy: parents are named like framings (ids after the framings'); a level maps framings to groups.
  const H = data.hierarchy;
  if (H) for (const p of H.parents) framingById.set(p.id, p);
  const levelMaps = H ? H.levels.map((pairs) => new Map(pairs)) : [];
  const groupAt = (f, level) => (f === -1 || !level ? f : levelMaps[Math.min(level, levelMaps.length) - 1].get(f));
  const mapDiv = document.getElementById("map");
  const state = { colourBy: "framing", section: "", coreOnly: false, highlight: null, current: null,
    level: H ? H.level : 0 };

  // ---------- helpers ----------
  const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  // a figure with its 95% interval, as the contrast and events panels show them
  const interval = (part) => part.low === null ? part.value.toFixed(3)
    : `${part.value.toFixed(3)} [${part.low.toFixed(3)}–${part.high.toFixed(3)}]`;
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  // Passage text: from the page, or — for a run too large for one file (data.served) — from `framing serve`,
  // fetched before a view that shows it is drawn. Views call withTexts(); in a self-contained page it draws at once.
  const docText = D.text || new Array(D.id.length);
  const fetchedUnits = new Map();
  const unitText = (i) => (docText[U.doc[i]] !== undefined ? docText[U.doc[i]].slice(U.start[i], U.end[i])
    : (fetchedUnits.has(i) ? fetchedUnits.get(i) : "…"));
  async function api(path) {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }
  async function loadTexts(units, docs) {
    const missingDocs = [...new Set(docs)].filter((d) => docText[d] === undefined);
    const missingUnits = [...new Set(units)].filter((i) => docText[U.doc[i]] === undefined && !fetchedUnits.has(i));
    for (let k = 0; k < missingDocs.length; k += 200) {
      const got = await api(`api/docs?d=${missingDocs.slice(k, k + 200).join(",")}`);
      for (const [d, text] of Object.entries(got)) docText[Number(d)] = text;
    }
    for (let k = 0; k < missingUnits.length; k += 1000) {
      const got = await api(`api/units?i=${missingUnits.slice(k, k + 1000).join(",")}`);
      for (const [i, text] of Object.entries(got)) fetchedUnits.set(Number(i), text);
    }
  }
  function withTexts(units, docs, render) {
    if (!data.served) return render();
    return loadTexts(units, docs || []).then(render, (error) => {
      serverNotice(`Passages could not be fetched (${error.message}): open this run with framing serve RUN_DIR.`);
      return render();
    });
  }
  function serverNotice(message) {
    if (document.getElementById("server-notice")) return;
    document.getElementById("notices").append(el("div", { class: "warn", id: "server-notice" }, message));
  }
  function framingName(f) { // "(unstable)" after a framing whose stability is below the run's threshold
    if (f === -1) return "unassigned";
    const framing = framingById.get(f);
    const unstable = data.stability && framing && framing.stability !== undefined
      && (framing.stability === null || framing.stability < data.stability.threshold);
    return `${f}: ${framing.label}${unstable ? " (unstable)" : ""}`;
  }
  const colourOf = (k) => palette[((k % palette.length) + palette.length) % palette.length];
  function rgba(hex, alpha) {
    const v = parseInt(hex.slice(1), 16);
    return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
  }
  const safeUrl = (url) => (/^https?:\/\//i.test(url || "") ? url : null);

  // ---------- indexes ----------
  const docUnits = D.id.map(() => []);
  const copies = new Map();
  for (let i = 0; i < n; i++) {
    docUnits[U.doc[i]].push(i);
    if (U.dup_of[i] >= 0) {
      if (!copies.has(U.dup_of[i])) copies.set(U.dup_of[i], []);
      copies.get(U.dup_of[i]).push(i);
    }
  }
  docUnits.forEach((list) => list.sort((a, b) => U.start[a] - U.start[b]));
  const representative = (i) => (U.dup_of[i] >= 0 ? U.dup_of[i] : i);
  performance.mark("framing:indexed");
  let lowered = null;
  // The hover label is made for the point under the mouse only (not 100k labels up front), in a box of our own.
  const tooltip = el("div", { id: "map-tooltip", class: "hidden" });
  function showTooltip(i, event) {
    withTexts([i], [], () => {
      tooltip.replaceChildren(el("b", {}, data.sources[U.source[i]]),
        ` · ${data.sections[U.section[i]]} · ${framingName(U.framing[i])}`, el("div", {}, unitText(i)));
      tooltip.classList.remove("hidden");
      const box = mapDiv.getBoundingClientRect();
      tooltip.style.left = `${Math.min(event.clientX - box.left + 14, box.width - 340)}px`;
      tooltip.style.top = `${event.clientY - box.top + 14}px`;
    });
  }

  // ---------- membership ----------
  // core: HDBSCAN put the unit in its framing; attached: an outlier given to it afterwards (drawn hollow). Runs
  // saved before members were told apart have no membership: every assigned unit counts as core there.
  const MEMBERSHIP = ["core", "attached", "none"];
  const membershipOf = (i) => U.membership ? MEMBERSHIP[U.membership[i]] : U.framing[i] === -1 ? "none" : "core";
  const isCore = (i) => membershipOf(i) === "core";
  function membershipNote(i) { // what the passage panel says of a unit's place in its framing
    const m = membershipOf(i);
    if (m === "none") return "unassigned";
    const cosine = U.centre_cosine && Number.isFinite(U.centre_cosine[i])
      ? `: cosine ${U.centre_cosine[i].toFixed(2)} to this framing's centre` : "";
    return m === "attached" ? `attached after clustering${cosine}` : `core member${cosine}`;
  }

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

  // ---------- passage and document views ----------
  function showPassage(i) {
    return withTexts([], [U.doc[i]], () => renderPassage(i));
  }
  function renderPassage(i) {
    state.current = i;
    const view = document.getElementById("passage-view");
    document.getElementById("document-view").classList.add("hidden");
    view.classList.remove("hidden");
    const d = U.doc[i], list = docUnits[d], at = list.indexOf(i);
    const url = safeUrl(D.url[d]);
    const context = el("div", { class: "context" });
    for (const j of list.slice(Math.max(at - 2, 0), at + 3)) {
      context.append(el("p", { class: j === i ? "focus" : "other", "data-unit": unitId(j) }, unitText(j)));
    }
    const places = (copies.get(representative(i)) || []).concat([representative(i)]).filter((j) => j !== i);
    view.replaceChildren(...[
      el("h2", {}, D.title[d] || D.id[d]),
      el("p", { class: "meta" }, `${data.sources[D.source[d]]}${D.date[d] ? " · " + D.date[d] : ""} · ${D.id[d]}`),
      url ? el("p", { class: "meta" }, el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url)) : null,
      el("p", { class: "meta" }, `Framing ${framingName(U.framing[i])} · ${data.sections[U.section[i]]}`),
      el("p", { class: "meta membership", "data-membership": membershipOf(i) }, membershipNote(i)),
      context,
      places.length ? el("p", { class: "meta" }, "Also in: ",
        ...places.map((j, k) => el("button", { type: "button", class: "link-button", onclick: () => showPassage(j) },
          `${data.sources[U.source[j]]} (${D.id[U.doc[j]]})${k < places.length - 1 ? "; " : ""}`))) : null,
      el("button", { type: "button", id: "open-document", onclick: () => showDocument(d, i) }, "Open the whole document"),
    ].filter((node) => node !== null));
    view.querySelector(".focus").scrollIntoView({ block: "nearest" });
  }
  function showDocument(d, focus) {
    return withTexts([], [d], () => renderDocument(d, focus));
  }
  function renderDocument(d, focus) {
    const box = document.getElementById("document");
    box.replaceChildren();
    let cursor = 0;
    const text = docText[d];
    let focusNode = null;
    for (const j of docUnits[d]) {
      if (U.start[j] < cursor) continue; // overlapping windows: show each stretch of text once
      if (U.start[j] > cursor) box.append(document.createTextNode(text.slice(cursor, U.start[j])));
      const tint = U.framing[j] === -1 ? "transparent" : rgba(colourOf(U.framing[j]), 0.25);
      const span = el("span", { class: "unit" + (j === focus ? " focus" : ""), style: `background:${tint}`,
        title: framingName(U.framing[j]), "data-unit": unitId(j), onclick: () => showPassage(j) }, unitText(j));
      if (j === focus) focusNode = span;
      box.append(span);
      cursor = U.end[j];
    }
    if (cursor < text.length) box.append(document.createTextNode(text.slice(cursor)));
    document.getElementById("document-title").textContent = D.title[d] || D.id[d];
    document.getElementById("document-meta").textContent =
      `${data.sources[D.source[d]]}${D.date[d] ? " · " + D.date[d] : ""} · ${D.id[d]} · units tinted by framing`;
    document.getElementById("passage-view").classList.add("hidden");
    document.getElementById("document-view").classList.remove("hidden");
    if (focusNode) focusNode.scrollIntoView({ block: "center" });
  }
  document.getElementById("back-to-passage").addEventListener("click", () => {
    if (state.current !== null) showPassage(state.current);
  });

  // ---------- highlight and search ----------
  function setHighlight(indices, message) {
    state.highlight = indices === null ? null : new Set(indices.map(representative));
    document.getElementById("search-count").textContent = message || "";
    document.querySelectorAll(".card").forEach((c) => c.classList.remove("active"));
    return draw();
  }
  function highlightFraming(id) { // a framing, or a parent of the hierarchy (every framing below it)
    const leaves = new Set(framingById.get(id) && framingById.get(id).leaves ? framingById.get(id).leaves : [id]);
    const members = [];
    for (let i = 0; i < n; i++) if (leaves.has(U.framing[i])) members.push(i);
    const result = setHighlight(members, `${members.filter((i) => U.dup_of[i] < 0).length} units in ${framingName(id)}`);
    const card = document.querySelector(`.card[data-framing="${id}"]`);
    if (card) card.classList.add("active");
    return result;
  }
  // Search: whole words, "quoted phrases", every term must match ("war" no longer matches "toward").
  function searchTerms(query) {
    return [...query.matchAll(/"([^"]+)"|(\S+)/g)].map((m) => (m[1] || m[2]).trim().toLowerCase()).filter(Boolean);
  }
  function wholeWord(term) { // letters and digits of any script count as word characters
    const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
    return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "iu");
  }
  function search(query) {
    const terms = searchTerms(query);
    if (!terms.length) { document.getElementById("search-panel").classList.add("hidden"); return setHighlight(null, ""); }
    const found = (hits) => {
      listPassages("search-passages", hits, `${hits.length} passage${hits.length === 1 ? "" : "s"} match ` +
        terms.map((t) => `“${t}”`).join(" and ") + " (whole words):", "search-passage");
      document.getElementById("search-panel").classList.remove("hidden");
      return setHighlight(hits, `${hits.length} unit${hits.length === 1 ? "" : "s"} match`);
    };
    if (data.served) { // the server searches the run's units.parquet, with the same rules
      return api(`api/search?q=${encodeURIComponent(query)}`).then(found,
        (error) => serverNotice(`Search needs framing serve (${error.message}).`));
    }
    if (lowered === null) lowered = Array.from({ length: n }, (_, i) => unitText(i));
    const patterns = terms.map(wholeWord);
    const hits = [];
    for (let i = 0; i < n; i++) if (U.dup_of[i] < 0 && patterns.every((p) => p.test(lowered[i]))) hits.push(i);
    return found(hits);
  }
  function listPassages(listId, hits, heading, buttonClass) { // a list of passages, a page at a time
    const list = document.getElementById(listId);
    list.replaceChildren(el("p", { class: "meta" }, heading));
    const more = (from) => withTexts(hits.slice(from, from + CELL_PAGE), [], () => {
      for (const i of hits.slice(from, from + CELL_PAGE)) {
        list.append(el("li", {}, el("button", { type: "button", class: `link-button ${buttonClass}`, "data-unit": unitId(i),
          onclick: () => showPassage(i) }, unitText(i)), el("span", { class: "shares" }, ` — ${data.sources[U.source[i]]}`)));
      }
      if (from + CELL_PAGE < hits.length) {
        const button = el("button", { type: "button", class: "link-button", onclick: () => { button.remove(); more(from + CELL_PAGE); } },
          `show ${Math.min(CELL_PAGE, hits.length - from - CELL_PAGE)} more`);
        list.append(button);
      }
    });
    return more(0);
  }
  let timer = null;
  document.getElementById("search").addEventListener("input", (ev) => {
    clearTimeout(timer);
    timer = setTimeout(() => search(ev.target.value), 150);
  });
  document.getElementById("clear-highlight").addEventListener("click", () => {
    document.getElementById("search").value = "";
    document.getElementById("search-panel").classList.add("hidden");
    setHighlight(null, "");
  });
  document.getElementById("colour-by").addEventListener("change", (ev) => { state.colourBy = ev.target.value; draw(); });
  const sectionSelect = document.getElementById("section-filter");
  for (const s of data.sections) sectionSelect.append(el("option", { value: s }, `only ${s}`));
  sectionSelect.addEventListener("change", (ev) => { state.section = ev.target.value; draw(); });
  document.getElementById("core-only").addEventListener("change", (ev) => { state.coreOnly = ev.target.checked; draw(); });

  // ---------- framing cards ----------
  const cards = document.getElementById("framing-cards");
  // stability (framing.framings.stability): the median Jaccard of the framing's core members with its best match
  // over re-clusterings of document subsamples; below the run's threshold a framing is marked unstable
  const S = data.stability;
  const isUnstable = (f) => !!S && (f.stability === null || f.stability === undefined || f.stability < S.threshold);
  function stabilityNote(f) {
    if (!S) return null;
    const score = f.stability === null || f.stability === undefined ? "not measured" : f.stability.toFixed(2);
    return el("div", { class: isUnstable(f) ? "stability unstable" : "stability",
      title: `median Jaccard of this framing's core members with its best match over ${S.runs} re-clusterings of ` +
        `${Math.round(100 * S.fraction)}% of the documents; below ${S.threshold} it is marked unstable` },
      isUnstable(f) ? `Unstable: stability ${score} (below ${S.threshold}): it may split, merge or vanish in a re-run`
        : `Stability ${score}`);
  }
  if (S) document.getElementById("stability-summary").textContent = (
    `Stability: ${F.filter(isUnstable).length} of ${F.length} framings unstable (below ${S.threshold}); mean ARI ` +
    `${S.mean_ari === null ? "n/a" : S.mean_ari.toFixed(2)} between ${S.runs} re-clusterings of ` +
    `${Math.round(100 * S.fraction)}% of the documents. A stable framing (near 1) comes back whole when part of ` +
    "the corpus is left out; an unstable one may split, merge or vanish in a re-run.");
  const drawCards = () => { for (const f of F) {
    const shares = Object.entries(f.sources).map(([s, v]) => `${s} ${(100 * v).toFixed(0)}%`).join(", ");
    const voices = Object.entries(f.sections || {}).map(([s, v]) => `${s} ${(100 * v).toFixed(0)}%`).join(", ");
    cards.append(el("div", { class: isUnstable(f) ? "card unstable" : "card", "data-framing": f.id,
      "data-stability": f.stability === null || f.stability === undefined ? "" : String(f.stability),
      style: `border-left-color:${colourOf(f.id)}` },
      el("h3", {}, el("button", { type: "button", class: "link-button framing-title", onclick: () => highlightFraming(f.id) },
        `${f.id}: ${f.label}`), ` · ${f.size} units` + (f.core !== null && f.core !== undefined && f.core < f.size
          ? ` (${f.core} core, ${f.size - f.core} attached)` : "")),
      f.caption >= 0 ? el("button", { type: "button", class: "link-button caption", "data-unit": unitId(f.caption),
        title: "the most central short passage", onclick: () => showPassage(f.caption) }, `“${unitText(f.caption)}”`) : null,
      stabilityNote(f),
      el("div", { class: "terms" }, "Terms: ", f.terms.join(", ")),
      el("div", { class: "shares" }, "Sources: ", shares),
      voices ? el("div", { class: "shares" }, "Sections: ", voices) : null,
      el("ol", {}, ...f.exemplars.map((i) => el("li", {},
        el("button", { type: "button", class: "link-button exemplar", "data-unit": unitId(i), onclick: () => showPassage(i) },
          unitText(i)), el("span", { class: "shares" }, ` — ${data.sources[U.source[i]]}`))))));
  }
  }; // end of drawCards
  const cardsDrawn = withTexts(F.flatMap((f) => f.exemplars.concat(f.caption >= 0 ? [f.caption] : [])), [], drawCards);
  if (!F.length) cards.append(el("p", {}, "No framing was found: every unit is unassigned."));

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
  const CELL_PAGE = 500; // passages listed at a time; "more" lists the next ones
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

  // ---------- the framing tree ----------
  function drawTree() {
    if (!H) return;
    document.getElementById("tree-panel").classList.remove("hidden");
    document.getElementById("tree-meta").textContent = `Broader framings above the ${F.length} framings ` +
      `(${H.method === "centroids" ? "merging the framings' centres" : "HDBSCAN's condensed tree"}): every parent ` +
      `holds exactly the framings below it. Click a node to highlight its units and list its passages.`;
    const select = document.getElementById("level");
    select.append(el("option", { value: "0" }, `framings (${F.length})`));
    levelMaps.forEach((m, k) => select.append(el("option", { value: String(k + 1) },
      `level ${k + 1} (${new Set(m.values()).size} groups)`)));
    select.value = String(state.level);
    select.parentElement.classList.remove("hidden");
    select.addEventListener("change", () => { state.level = Number(select.value); draw(); drawHeatmap(); });
    const root = H.parents[H.parents.length - 1];
    const node = (id, depth) => {
      const item = framingById.get(id), parent = item.leaves ? item : null;
      const title = el("button", { type: "button", class: "link-button tree-node", "data-node": String(id),
        onclick: (ev) => { ev.preventDefault(); listNode(id); } }, `${id}: ${item.label}`);
      const about = el("span", { class: "shares" }, ` · ${item.size} units` +
        (parent ? ` · ${parent.leaves.length} framings · ${item.terms.slice(0, 6).join(", ")}` : ""));
      if (!parent) return el("div", { class: "tree-leaf", style: `border-left-color:${colourOf(id)}` }, title, about);
      const box = el("details", { class: "tree-parent" }, el("summary", {}, title, about),
        ...parent.children.map((c) => node(c, depth + 1)));
      if (depth < 2) box.open = true;
      return box;
    };
    document.getElementById("tree").append(node(root.id, 0));
  }
  function listNode(id) {
    const item = framingById.get(id), leaves = new Set(item.leaves || [id]);
    const hits = [];
    for (let i = 0; i < n; i++) if (U.dup_of[i] < 0 && leaves.has(U.framing[i])) hits.push(i);
    highlightFraming(id);
    const list = document.getElementById("tree-passages");
    list.replaceChildren();
    list.dataset.node = String(id);
    list.append(el("p", { class: "meta" }, `${hits.length} passages in ${framingName(id)}` +
      (item.leaves ? ` (framings ${item.leaves.join(", ")})` : "") + `${hits.length > CELL_PAGE ? `; the first ${CELL_PAGE}` : ""}:`));
    return withTexts(hits.slice(0, CELL_PAGE), [], () => {
      for (const i of hits.slice(0, CELL_PAGE)) {
        list.append(el("li", {}, el("button", { type: "button", class: "link-button tree-passage", "data-unit": unitId(i),
          onclick: () => showPassage(i) }, unitText(i)), el("span", { class: "shares" }, ` — ${data.sources[U.source[i]]}`)));
      }
      return hits.length;
    });
  }

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
  function whenVisible(node, draw) { // run draw() once node is within a screen of the viewport
    return new Promise((resolve) => {
      const observer = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer.disconnect();
        resolve(draw());
      }, { rootMargin: "600px" });
      observer.observe(node);
    });
  }

  // ---------- labelling frames ----------
  const FR = data.frames;
  const sessionLabels = new Map(); // unit index -> frame name, labelled in this page
  const labelState = { queue: [], target: null };
  const KEYS = "123456789abcdefghijklmnopqrstuvwxyz";
  function runLabels() { // the labels the run was trained on, then this session's (which win)
    const out = new Map();
    if (FR) for (let i = 0; i < n; i++) if (FR.origin[i] === 0 && FR.frame[i] >= 0) out.set(i, FR.names[FR.frame[i]]);
    for (const [i, frame] of sessionLabels) out.set(i, frame);
    return out;
  }
  function labelsCsv() {
    const quote = (s) => `"${String(s).replace(/"/g, '""')}"`;
    const rows = ["unit_id,text,frame"];
    for (const [i, frame] of runLabels()) rows.push([unitId(i), unitText(i), frame].map(quote).join(","));
    return rows.join("\r\n") + "\r\n";
  }
  function nextTarget() {
    while (labelState.queue.length && sessionLabels.has(labelState.queue[0])) labelState.queue.shift();
    showLabelTarget(labelState.queue.length ? labelState.queue.shift() : null);
  }
  function showLabelTarget(i) {
    return withTexts(i === null ? [] : [i], [], () => renderLabelTarget(i));
  }
  function renderLabelTarget(i) {
    labelState.target = i;
    const box = document.getElementById("label-target");
    box.replaceChildren();
    if (i === null) { box.append(el("p", { class: "meta" }, "No more proposals: open any passage and label it.")); return; }
    const guess = FR.frame[i] >= 0 ? FR.names[FR.frame[i]] : "none";
    const how = FR.origin[i] === 2 ? "zero-shot" : FR.origin[i] === 0 ? "labelled" :
      `predicted, probability ${Number.isNaN(FR.probability[i]) ? "?" : FR.probability[i].toFixed(2)}`;
    box.append(el("p", { class: "text", "data-unit": String(i) }, unitText(i)),
      el("p", { class: "meta" }, `${data.sources[U.source[i]]} · ${framingName(U.framing[i])} · frame now: ${guess} (${how})`),
      el("button", { type: "button", class: "link-button", onclick: () => showPassage(i) }, "Read it in context"));
  }
  function assignLabel(frame) {
    const i = labelState.target;
    if (i === null || i === undefined) return;
    sessionLabels.set(i, frame);
    document.getElementById("label-done").prepend(el("li", {}, `${frame}: ${unitText(i)}`));
    document.getElementById("label-count").textContent =
      `${sessionLabels.size} labelled here; labels.csv holds ${runLabels().size}`;
    nextTarget();
  }
  function curveVerdict(curve) {
    const [half, full] = curve.slice(-2).map((p) => p.macro_f1);
    return full - half > 0.01 ? "Macro-F1 still rises from half the labels to all of them: more labels would likely help."
      : "Macro-F1 is flat from half the labels to all of them: more of the same labels may not help; label the frames that score low.";
  }
  function showValidation(v) {
    document.getElementById("label-validation").classList.remove("hidden");
    document.getElementById("label-curve").textContent = "Learning curve (share of each training fold → accuracy, " +
      "macro-F1): " + v.learning_curve.map((p) => `${Math.round(100 * p.fraction)}% (${p.labels} labels) → ` +
      `${p.accuracy.toFixed(2)}, ${p.macro_f1.toFixed(2)}`).join("; ") + ". " + curveVerdict(v.learning_curve);
    const body = document.querySelector("#label-scores tbody");
    for (const row of v.per_frame) {
      const untested = (v.untested_frames || []).includes(row.frame);
      body.append(el("tr", {}, el("td", {}, row.frame), el("td", {}, String(FR.labels_per_frame[row.frame] || 0)),
        el("td", {}, untested ? "untested" : row.precision.toFixed(2)), el("td", {}, untested ? "" : row.recall.toFixed(2))));
    }
    const table = document.getElementById("label-confusion");
    table.append(el("tr", {}, el("th", {}, ""), ...FR.names.map((_, k) => el("th", { title: FR.names[k] }, String(k + 1)))));
    v.confusion.forEach((counts, k) => table.append(el("tr", {}, el("th", {}, `${k + 1} ${FR.names[k]}`),
      ...counts.map((c) => el("td", {}, String(c))))));
  }

  function setupLabelling() {
    if (!FR || !FR.names.length) return;
    document.getElementById("label-panel").classList.remove("hidden");
    const v = FR.validation || {};
    document.getElementById("label-summary").textContent = FR.method === "zero-shot"
      ? `Frames are zero-shot from the codebook. Label a few passages per frame and the next run learns them and says how well they hold.`
      : `Frames learned from ${v.labelled || 0} labels: cross-validated accuracy ${(v.accuracy || 0).toFixed(2)}, macro-F1 ${(v.macro_f1 || 0).toFixed(2)}` +
        (v.zero_shot ? ` (zero-shot codebook on the same units: ${v.zero_shot.accuracy.toFixed(2)})` : "") + ".";
    if (v.per_frame) showValidation(v);
    const out = FR.left_out || {};
    const unknown = Object.entries(out.unknown_frames || {});
    const notes = [];
    if (out.unmatched) notes.push(`${out.unmatched} label row(s) matched no unit of this run`);
    if (unknown.length) notes.push(`labels naming no frame of the codebook were left out: ` +
      unknown.map(([frame, count]) => `${frame} (${count})`).join(", "));
    if (out.skipped) notes.push(`no cross-validation: ${out.skipped}`);
    if (notes.length) document.getElementById("label-panel").insertBefore(
      el("p", { class: "warn", id: "label-warnings" }, notes.join("; ") + "."), document.getElementById("label-target"));
    const buttons = document.getElementById("label-buttons");
    FR.names.forEach((name, k) => buttons.append(el("button", { type: "button", "data-frame": name,
      onclick: () => assignLabel(name) }, k < KEYS.length ? el("kbd", {}, KEYS[k]) : null, name)));
    if (!FR.names.includes("none")) buttons.append(el("button", { type: "button", "data-frame": "none",
      onclick: () => assignLabel("none") }, "none of these"));
    labelState.queue = FR.proposals.slice();
    nextTarget();
    document.getElementById("label-skip").addEventListener("click", nextTarget);
    document.getElementById("label-open").addEventListener("click", () => {
      if (state.current !== null) showLabelTarget(representative(state.current));
    });
    document.getElementById("download-labels").addEventListener("click", () => withTexts([...runLabels().keys()], [], () => {
      const url = URL.createObjectURL(new Blob([labelsCsv()], { type: "text/csv" }));
      const link = el("a", { href: url, download: "labels.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }));
    document.addEventListener("keydown", (ev) => {
      if (ev.target.closest && ev.target.closest("input, textarea, select")) return;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === " ") { ev.preventDefault(); nextTarget(); return; }
      const k = KEYS.indexOf(ev.key.toLowerCase());
      if (k >= 0 && k < FR.names.length) assignLabel(FR.names[k]);
    });
  }

  // ---------- header, notices, start ----------
  document.getElementById("run-name").textContent = data.run.name;
  const c = data.run.counts || {};
  document.getElementById("counts").textContent =
    `${c.documents || 0} documents · ${c.units || 0} units · ${c.framings || 0} framings · ${c.unassigned || 0} unassigned` +
    (c.distinct_units ? ` (${Math.round(100 * (c.unassigned || 0) / c.distinct_units)}% of distinct units)` : "");
  const notices = document.getElementById("notices");
  for (const r of data.run.reposts || []) {
    notices.append(el("div", { class: "warn" },
      `Repost: ${r.document} repeats ${(100 * r.share).toFixed(0)}% of ${r.original} (${r.shared_units} of ${r.units} units); the copies are counted once.`));
  }
  const controls = document.getElementById("controls");
  controls.append(el("div", { id: "legend" }));
  mapDiv.style.position = "relative";
  mapDiv.append(tooltip);
  const distinct = c.distinct_units || n;
  if (distinct > data.max_points) notices.append(el("div", { class: "note", id: "map-sample-note" },
    `The map draws ${data.max_points.toLocaleString()} of ${distinct.toLocaleString()} distinct units (every framing's ` +
    `exemplars, then a random sample; report.max_points); search, the framing cards and the table reach every unit.`));
  if (data.served && location.protocol === "file:") serverNotice("This run is too large to hold every passage in one " +
    "file: open it with framing serve RUN_DIR to read passages.");

  function pointPixel(i) { // where unit i is drawn, in page coordinates (used by the browser tests)
    const full = mapDiv._fullLayout, rect = mapDiv.getBoundingClientRect();
    return { x: rect.left + full._size.l + full.xaxis.l2p(U.x[representative(i)]),
      y: rect.top + full._size.t + full.yaxis.l2p(U.y[representative(i)]) };
  }
  // ---------- events: which documents tell the same story; an event's passages per group, by framing ----------
  const EV = data.events;
  function setupEvents() {
    if (!EV || !EV.events.length) return;
    document.getElementById("events-panel").classList.remove("hidden");
    const how = EV.method === "field" ? `given by the metadata column ${EV.settings.field}`
      : EV.method === "found" ? `found from the documents' content (average cosine ≥ ${EV.settings.threshold}` +
        (EV.settings.window_days !== null ? `, at most ${EV.settings.window_days} days apart` : "") + ")"
      : "one event";
    document.getElementById("events-meta").textContent =
      `${EV.events.length} events, ${how}. Click an event to read each group's passages side by side, by framing.`;
    const W = EV.within;
    if (W) {
      const t = W.test;
      const parts = W.agenda_framing.map((p) => `${p.group_a} vs ${p.group_b}: difference ${interval(p.total)} = ` +
        `agenda (which events) ${interval(p.agenda)} and framing (how they tell shared events) ${interval(p.framing)}`);
      document.getElementById("events-within").textContent =
        `Within events (${t.events} told by more than one group): does the framing depend on the group, given the ` +
        `event? permutation p = ${t.p_value === null ? "n/a" : t.p_value} (${t.permutations} shuffles of ` +
        `${t.shuffled}). ${parts.join("; ")}.`;
    }
    const body = document.querySelector("#events-table tbody");
    for (const e of EV.events) {
      const dates = e.first === null ? "undated" : e.first === e.last ? e.first : `${e.first} – ${e.last}`;
      body.append(el("tr", { "data-event": e.id },
        el("td", {}, el("button", { type: "button", class: "link-button event-link", onclick: () => listEvent(e.id) },
          `${e.id}: ${e.label}`)),
        el("td", {}, dates), el("td", {}, e.sources.join(", ")), el("td", {}, String(e.documents)),
        el("td", {}, String(e.size))));
    }
  }
  function listEvent(eventId) { // each group's distinct passages of the event, by framing, side by side
    const view = document.getElementById("event-view");
    view.replaceChildren();
    const e = EV.events.find((x) => x.id === eventId);
    view.append(el("h3", {}, `${e.id}: ${e.label}`));
    const groups = EV.groups.length ? EV.groups.map((g, k) => [g, k]) : [["all units", -1]];
    const byGroup = groups.map(() => new Map());
    for (let i = 0; i < n; i++) {
      if (U.dup_of[i] >= 0 || EV.unit_event[i] !== eventId) continue;
      const k = EV.groups.length ? EV.unit_group[i] : 0;
      if (k < 0) continue;
      const f = U.framing[i];
      if (!byGroup[k].has(f)) byGroup[k].set(f, []);
      byGroup[k].get(f).push(i);
    }
    const all = byGroup.flatMap((m) => [...m.values()].flat());
    const columns = el("div", { class: "event-columns" });
    view.append(columns);
    withTexts(all, [], () => groups.forEach(([name], k) => {
      const column = el("div", { class: "event-group", "data-group": name }, el("h4", {}, name));
      const framings = [...byGroup[k].keys()].sort((a, b) => (a === -1) - (b === -1) || a - b);
      if (!framings.length) column.append(el("p", { class: "meta" }, "no passage in this event"));
      for (const f of framings) {
        column.append(el("p", { class: "meta" }, `${framingName(f)} · ${byGroup[k].get(f).length}`));
        column.append(el("ol", {}, ...byGroup[k].get(f).map((i) => el("li", {}, el("button", { type: "button",
          class: "link-button event-passage", "data-unit": unitId(i), onclick: () => showPassage(i) }, unitText(i))))));
      }
      columns.append(column);
    }));
    return all.length;
  }
  setupEvents();
  setupLabelling();
  drawTree();
  window.framingReport = { showPassage, showDocument, highlightFraming, search, listCell, pointPixel, unitText, data,
    labelsCsv, listBin, timePointPixel, listNode, listEvent };
  Promise.all([draw().then(() => performance.mark("framing:map")), drawHeatmap(), drawTime(), drawContrast(),
    cardsDrawn]).then(() => {
    mapDiv.on("plotly_click", (ev) => showPassage(ev.points[0].customdata));
    mapDiv.on("plotly_hover", (ev) => showTooltip(ev.points[0].customdata, ev.event));
    mapDiv.on("plotly_unhover", () => tooltip.classList.add("hidden"));
    performance.mark("framing:ready");
    window.framingReady = true;
  });
})();
