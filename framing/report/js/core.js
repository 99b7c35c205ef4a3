  // ---------- data, shared state and helpers (every panel reads these) ----------
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
