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

  // a list of passages (search, a table cell, a tree node, a time bin): a page at a time
  const CELL_PAGE = 500; // passages listed at a time; "more" lists the next ones
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
