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
