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
