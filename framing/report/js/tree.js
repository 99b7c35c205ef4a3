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
