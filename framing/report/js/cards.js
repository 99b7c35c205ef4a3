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
