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
